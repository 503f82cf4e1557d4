import Foundation

/// Numbers as the workbench prints them: short, fixed style, units attached.
public enum Format {
  // Byte counts: `ByteCount.format` in LatheIO, the one formatter the CLI and the workbench share.

  /// 1234567 -> "1.23M".
  public static func count(_ value: Int) -> String {
    scaled(Double(value), units: ["", "k", "M", "G", "T"], separator: "")
  }

  private static func scaled(_ value: Double, units: [String], separator: String) -> String {
    var scaledValue = value
    var unit = 0
    while abs(scaledValue) >= 1000, unit < units.count - 1 {
      scaledValue /= 1000
      unit += 1
    }
    if unit == 0 { return String(Int(scaledValue)) + separator + units[0] }
    let digits = abs(scaledValue) >= 100 ? 0 : abs(scaledValue) >= 10 ? 1 : 2
    return String(format: "%.\(digits)f", scaledValue) + separator + units[unit]
  }

  /// 0.9734 -> "97.3%".
  public static func percent(_ fraction: Double, digits: Int = 1) -> String {
    String(format: "%.\(digits)f%%", fraction * 100)
  }

  /// Microseconds -> "850µs", "12.3ms", "1.50s".
  public static func micros(_ value: Double, ascii: Bool = false) -> String {
    if value < 1000 { return String(format: "%.0f", value) + (ascii ? "us" : "µs") }
    if value < 1_000_000 { return String(format: value < 10_000 ? "%.2fms" : "%.1fms", value / 1000) }
    return String(format: "%.2fs", value / 1_000_000)
  }

  /// Seconds -> "42s", "3m05s", "1h02m".
  public static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return String(format: "%dm%02ds", total / 60, total % 60) }
    return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60)
  }

  /// [64, 3, 3, 3] -> "64x3x3x3"; "-" for none.
  public static func shape(_ shape: [Int]) -> String {
    shape.isEmpty ? "-" : shape.map(String.init).joined(separator: "x")
  }

  /// A compact axis label: 3 significant figures at most.
  public static func axis(_ value: Double) -> String {
    let magnitude = abs(value)
    if magnitude >= 1000 { return count(Int(value.rounded())) }
    if magnitude >= 100 || value == value.rounded() { return String(format: "%.0f", value) }
    if magnitude >= 10 { return String(format: "%.1f", value) }
    if magnitude >= 0.01 { return String(format: "%.2f", value) }
    return String(format: "%.1e", value)
  }

  /// Pads or cuts to exactly `width` columns, right-aligned when asked.
  public static func fit(_ text: String, _ width: Int, right: Bool = false) -> String {
    let length = CharacterWidth.of(text)
    if length >= width { return String(text.unicodeScalars.prefix(width).map(Character.init)) }
    let padding = String(repeating: " ", count: width - length)
    return right ? padding + text : text + padding
  }
}
