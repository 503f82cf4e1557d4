import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` in local time, the text Optuna's `datetime.now()` leaves in
/// `datetime_start`, read and written with the C library's `mktime` and `localtime_r`. Every
/// transaction reads every trial's times back, and a `DateFormatter` per value cost two thirds
/// of a 200-trial study's storage time.
enum LocalTimestamp {
  static func text(_ seconds: Double) -> String {
    var whole = time_t(seconds.rounded(.down))
    var micros = Int(((seconds - Double(whole)) * 1_000_000).rounded())
    if micros >= 1_000_000 {
      whole += 1
      micros -= 1_000_000
    }
    var parts = tm()
    localtime_r(&whole, &parts)
    return String(
      format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
  }

  /// Nil for anything else (a timestamp another tool wrote differently reads as unknown).
  static func seconds(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
      bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
      bytes[16] == UInt8(ascii: ":")
    else { return nil }
    func number(_ range: Range<Int>) -> Int? {
      var value = 0
      for i in range {
        guard i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 else { return nil }
        value = value * 10 + Int(bytes[i] - 48)
      }
      return value
    }
    guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
      let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
    else { return nil }
    var fraction = 0.0
    if bytes.count > 19 {
      guard bytes[19] == UInt8(ascii: "."), bytes.count > 20, bytes.count <= 29,
        let digits = number(20..<bytes.count)
      else { return nil }
      fraction = Double(digits) / pow(10, Double(bytes.count - 20))
    }
    var parts = tm()
    parts.tm_year = Int32(year - 1900)
    parts.tm_mon = Int32(month - 1)
    parts.tm_mday = Int32(day)
    parts.tm_hour = Int32(hour)
    parts.tm_min = Int32(minute)
    parts.tm_sec = Int32(second)
    parts.tm_isdst = -1  // local time: let the C library decide summer time
    let whole = mktime(&parts)
    guard whole != -1 || (year == 1969 && month == 12 && day == 31) else { return nil }
    return Double(whole) + fraction
  }
}
