import Foundation

/// The small pieces of JSON handling that Foundation's `JSONSerialization` does not provide:
/// writing strings, telling integers from floats and booleans, the order of an object's keys,
/// and short descriptions of values for error messages.
enum JSONText {
  /// `text` as a JSON string literal, quotes included.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// The value as an `Int` when JSON wrote it as an integer: `2.0`, `1e3` and `true` are not,
  /// even though `NSNumber` would convert them.
  static func integer(_ value: Any) -> Int? {
    guard let number = value as? NSNumber, !(value is NSDecimalNumber) else { return nil }
    let type = String(cString: number.objCType)
    guard type != "c", type != "d", type != "f" else { return nil }
    return value as? Int
  }

  /// The value as a `Double` when JSON wrote it as a number (not `true` or `false`).
  static func number(_ value: Any) -> Double? {
    guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else {
      return nil
    }
    return number.doubleValue
  }

  /// Integers of a JSON array, or nil when it is not an array of integers.
  static func integers(_ value: Any) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    var result: [Int] = []
    for element in array {
      guard let integer = integer(element) else { return nil }
      result.append(integer)
    }
    return result
  }

  /// A JSON value written back compactly, shortened to fit in an error message.
  static func describe(_ value: Any) -> String {
    let options: JSONSerialization.WritingOptions = [
      .fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes,
    ]
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: options) else {
      return "\(value)"
    }
    let text = String(decoding: data, as: UTF8.self)
    return text.count <= 60 ? text : String(text.prefix(57)) + "..."
  }

  /// The keys of the top-level object of `json`, in the order they appear, duplicates included.
  /// `JSONSerialization` returns a dictionary, which loses both; safetensors needs the order to
  /// keep zero-sized tensors in place and must reject duplicate names. `json` must already have
  /// been parsed successfully, so this scanner only tracks strings and nesting depth.
  static func topLevelKeys(_ json: ArraySlice<UInt8>) -> [String] {
    let quote = UInt8(ascii: "\"")
    let backslash = UInt8(ascii: "\\")
    let colon = UInt8(ascii: ":")
    var keys: [String] = []
    var depth = 0
    var i = json.startIndex
    while i < json.endIndex {
      let byte = json[i]
      if byte == quote {
        let start = i + 1
        i += 1
        while i < json.endIndex && json[i] != quote { i += json[i] == backslash ? 2 : 1 }
        let token = json[start..<min(i, json.endIndex)]
        i += 1
        if depth == 1 {
          var next = i
          while next < json.endIndex && isSpace(json[next]) { next += 1 }
          if next < json.endIndex && json[next] == colon { keys.append(decodeString(token)) }
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      default: break
      }
      i += 1
    }
    return keys
  }

  private static func isSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d
  }

  /// The text of a JSON string literal's contents, escapes resolved.
  private static func decodeString(_ token: ArraySlice<UInt8>) -> String {
    if !token.contains(UInt8(ascii: "\\")) { return String(decoding: token, as: UTF8.self) }
    let literal = Data([UInt8(ascii: "\"")] + token + [UInt8(ascii: "\"")])
    let decoded = try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)
    return decoded as? String ?? String(decoding: token, as: UTF8.self)
  }
}
