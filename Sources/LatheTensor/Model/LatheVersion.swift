/// Lathe's release, for `lathe --version` and the `producer_version` of exported ONNX files.
/// Bump it with each release tag.
public enum LatheVersion {
  public static let string = "0.1.0"
}
