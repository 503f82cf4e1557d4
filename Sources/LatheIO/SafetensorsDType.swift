/// The element types of the safetensors format, with their sizes in bits. Lathe loads only the
/// few its engine computes in (`DType`), but a file of any of these is valid safetensors and
/// `inspect` lists it; the sub-byte types (F4, F6) pack elements, so sizes are kept in bits.
public enum SafetensorsDType {
  /// Every dtype the reference implementation (huggingface/safetensors, `Dtype`) accepts.
  public static let bits: [String: Int] = [
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
    "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64,
    "F64": 64, "I64": 64, "U64": 64,
  ]

  /// The names in a stable order, for error messages.
  public static var names: [String] { bits.keys.sorted() }
}
