import Foundation

/// Byte counts as Lathe abbreviates them everywhere (the workbench's header, panels, charts and
/// status line; the command line prints exact byte counts). docs/architecture.md states the rule.
///
/// Decimal units (1 kB = 1000 B, 1 MB = 1000 kB, like `ls -h --si` and the sizes model hubs
/// show): a size then reads the same as the file's byte count with the point moved, and there
/// is one convention, not a "MB" that means 2^20 in one place and 10^6 in another.
public enum ByteCount {
  /// 999 -> "999 B", 24_684 -> "24.7 kB", 1_234_567 -> "1.23 MB": three significant figures
  /// at most once scaled. Negative counts keep their sign.
  public static func format(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while abs(value) >= 1000, unit < units.count - 1 {
      value /= 1000
      unit += 1
    }
    if unit == 0 { return "\(bytes) B" }
    let digits = abs(value) >= 100 ? 0 : abs(value) >= 10 ? 1 : 2
    return String(format: "%.\(digits)f", value) + " " + units[unit]
  }
}
