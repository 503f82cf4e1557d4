import Foundation

/// One JSON object of a Hugging Face file (config.json, tokenizer.json) with typed getters whose
/// errors name the file and the field's path ("model.vocab", "num_hidden_layers"), so a
/// missing or wrong field is one line saying where and what was expected.
struct JSONFields {
  let object: [String: Any]
  let file: String
  /// The path of this object inside the file ("" at the top, "model." below it).
  let prefix: String

  init(_ object: [String: Any], file: String, prefix: String = "") {
    (self.object, self.file, self.prefix) = (object, file, prefix)
  }

  /// The top-level object of a JSON file of at most `limit` bytes.
  static func read(_ url: URL, limit: Int) throws -> JSONFields {
    let text = try TextFile.read(url, limit: limit)
    let value: Any
    do {
      value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    } catch {
      throw LatheIOError.invalid(
        file: url.path, field: "contents", expected: "JSON", got: "text that is not valid JSON")
    }
    guard let object = value as? [String: Any] else {
      throw LatheIOError.invalid(
        file: url.path, field: "contents", expected: "a JSON object", got: JSONText.describe(value))
    }
    return JSONFields(object, file: url.path)
  }

  func fail(_ key: String, expected: String, got: Any?) -> LatheIOError {
    .invalid(
      file: file, field: "field \"\(prefix)\(key)\"", expected: expected,
      got: got.map { JSONText.describe($0) } ?? "no such field")
  }

  /// Whether the key is present and not null.
  func has(_ key: String) -> Bool { object[key].map { !($0 is NSNull) } ?? false }

  func int(_ key: String, atLeast minimum: Int = 1) throws -> Int {
    guard let value = object[key], let n = JSONText.integer(value), n >= minimum else {
      throw fail(key, expected: minimum == 1 ? "a positive integer" : "an integer ≥ \(minimum)", got: object[key])
    }
    return n
  }

  /// The first of `keys` that is present (GPT-2's n_positions or n_ctx), as `int`.
  func int(anyOf keys: [String]) throws -> Int {
    try int(keys.first(where: has) ?? keys[0])
  }

  func optionalInt(_ key: String, atLeast minimum: Int = 1) throws -> Int? {
    has(key) ? try int(key, atLeast: minimum) : nil
  }

  func float(_ key: String, default fallback: Float? = nil) throws -> Float {
    guard has(key) else {
      if let fallback { return fallback }
      throw fail(key, expected: "a number", got: nil)
    }
    guard let value = JSONText.number(object[key]!), value.isFinite else {
      throw fail(key, expected: "a number", got: object[key])
    }
    return Float(value)
  }

  func string(_ key: String) throws -> String {
    guard let text = object[key] as? String else { throw fail(key, expected: "a string", got: object[key]) }
    return text
  }

  func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }

  func bool(_ key: String, default fallback: Bool) throws -> Bool {
    guard has(key) else { return fallback }
    guard let number = object[key] as? NSNumber, String(cString: number.objCType) == "c" else {
      throw fail(key, expected: "true or false", got: object[key])
    }
    return number.boolValue
  }

  func object(_ key: String) throws -> JSONFields {
    guard let value = object[key] as? [String: Any] else { throw fail(key, expected: "an object", got: object[key]) }
    return JSONFields(value, file: file, prefix: prefix + key + ".")
  }

  func optionalObject(_ key: String) throws -> JSONFields? { has(key) ? try object(key) : nil }

  func array(_ key: String) throws -> [Any] {
    guard let value = object[key] as? [Any] else { throw fail(key, expected: "an array", got: object[key]) }
    return value
  }

  /// Element `index` of array `key` as an object, its path `key[index].`.
  func object(in key: String, at index: Int, of array: [Any]) throws -> JSONFields {
    guard let value = array[index] as? [String: Any] else {
      throw LatheIOError.invalid(
        file: file, field: "field \"\(prefix)\(key)[\(index)]\"", expected: "an object",
        got: JSONText.describe(array[index]))
    }
    return JSONFields(value, file: file, prefix: "\(prefix)\(key)[\(index)].")
  }
}
