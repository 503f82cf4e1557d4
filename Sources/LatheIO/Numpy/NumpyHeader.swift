/// The header of an `.npy` file: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, parsed by a small reader of
/// the literal subset numpy writes (strings, True/False, integers, tuples, lists, dicts), never
/// evaluated. Anything else (an object dtype, a structured `descr` list) is refused by name.
struct NumpyHeader {
  var dtype: NumpyDType
  var fortranOrder: Bool
  var shape: [Int]

  /// A parsed Python literal.
  indirect enum Literal {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case sequence([Literal])
    case dict([(String, Literal)])
    case none

    var summary: String {
      switch self {
      case .string(let text): return "'\(OneLine.escaping(text))'"
      case .bool(let flag): return flag ? "True" : "False"
      case .integer(let value): return "\(value)"
      case .sequence(let items): return "a sequence of \(items.count)"
      case .dict: return "a dict"
      case .none: return "None"
      }
    }
  }

  static func parse(_ text: String, file: String) throws -> NumpyHeader {
    var parser = LiteralParser(scalars: Array(text.unicodeScalars), file: file)
    let literal = try parser.value(depth: 0)
    parser.skipSpace()
    guard parser.position == parser.scalars.count else {
      throw parser.failure("the end of the header after the dict")
    }
    guard case .dict(let entries) = literal else {
      throw LatheIOError.invalid(
        file: file, field: "npy header", expected: "a dict literal", got: literal.summary)
    }
    var fields: [String: Literal] = [:]
    for (key, value) in entries { fields[key] = value }
    for key in ["descr", "fortran_order", "shape"] where fields[key] == nil {
      throw LatheIOError.invalid(
        file: file, field: "npy header key '\(OneLine.escaping(key))'", expected: "present", got: "missing")
    }
    guard case .string(let descr)? = fields["descr"] else {
      throw LatheIOError.unsupported(
        file: file, field: "npy header 'descr'", value: "a structured dtype (\(fields["descr"]!.summary))",
        supported: NumpyDType.supportedNames)
    }
    guard let dtype = NumpyDType(descr: descr) else {
      let why = descr.hasSuffix("O") ? " (object arrays need pickle, which Lathe never loads)" : ""
      throw LatheIOError.unsupported(
        file: file, field: "npy header 'descr'", value: "'\(OneLine.escaping(descr))'\(why)",
        supported: NumpyDType.supportedNames)
    }
    guard case .bool(let fortran)? = fields["fortran_order"] else {
      throw LatheIOError.invalid(
        file: file, field: "npy header 'fortran_order'", expected: "True or False",
        got: fields["fortran_order"]!.summary)
    }
    guard case .sequence(let items)? = fields["shape"] else {
      throw LatheIOError.invalid(
        file: file, field: "npy header 'shape'", expected: "a tuple of sizes", got: fields["shape"]!.summary)
    }
    var shape: [Int] = []
    for (axis, item) in items.enumerated() {
      guard case .integer(let size) = item, size >= 0 else {
        throw LatheIOError.invalid(
          file: file, field: "npy header 'shape' axis \(axis)", expected: "a size of 0 or more", got: item.summary)
      }
      shape.append(size)
    }
    return NumpyHeader(dtype: dtype, fortranOrder: fortran, shape: shape)
  }

  /// The dict literal numpy would write for this header (keys sorted, trailing comma).
  var text: String {
    let sizes = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    return "{'descr': '\(dtype.descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': (\(sizes)), }"
  }
}

/// A recursive-descent reader of Python literals, with a depth limit so a hostile header of
/// nested brackets cannot exhaust the stack.
private struct LiteralParser {
  let scalars: [Unicode.Scalar]
  let file: String
  var position = 0

  static let maximumDepth = 16

  func failure(_ expected: String) -> LatheIOError {
    let got =
      position < scalars.count
      ? "'\(OneLine.escaping(String(Character(scalars[position]))))' at character \(position)" : "the end"
    return .invalid(file: file, field: "npy header", expected: expected, got: got)
  }

  mutating func skipSpace() {
    while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
  }

  mutating func value(depth: Int) throws -> NumpyHeader.Literal {
    guard depth < Self.maximumDepth else { throw failure("at most \(Self.maximumDepth) nested brackets") }
    skipSpace()
    guard position < scalars.count else { throw failure("a value") }
    let c = scalars[position]
    switch c {
    case "'", "\"": return .string(try string())
    case "(", "[":
      position += 1
      return .sequence(try items(closing: c == "(" ? ")" : "]", depth: depth))
    case "{":
      position += 1
      return try dict(depth: depth)
    case "-", "0"..."9": return .integer(try integer())
    default:
      for (word, literal) in [("True", NumpyHeader.Literal.bool(true)), ("False", .bool(false)), ("None", .none)]
      where matches(word) {
        position += word.unicodeScalars.count
        return literal
      }
      throw failure("a string, number, True, False, tuple, list or dict")
    }
  }

  private func matches(_ word: String) -> Bool {
    let wanted = Array(word.unicodeScalars)
    return position + wanted.count <= scalars.count && Array(scalars[position..<position + wanted.count]) == wanted
  }

  private mutating func string() throws -> String {
    let quote = scalars[position]
    position += 1
    var text = String.UnicodeScalarView()
    while position < scalars.count, scalars[position] != quote {
      // numpy never writes escapes in its headers; refusing them keeps this reader small.
      guard scalars[position] != "\\" else { throw failure("a string without backslash escapes") }
      text.append(scalars[position])
      position += 1
    }
    guard position < scalars.count else { throw failure("a closing quote") }
    position += 1
    return String(text)
  }

  private mutating func integer() throws -> Int {
    let start = position
    if scalars[position] == "-" { position += 1 }
    while position < scalars.count, ("0"..."9").contains(scalars[position]) { position += 1 }
    // Python 2 era files may write long sizes as `3L`.
    let digits = String(String.UnicodeScalarView(scalars[start..<position]))
    if position < scalars.count, scalars[position] == "L" { position += 1 }
    guard let value = Int(digits) else {
      position = start
      throw failure("an integer that fits in 64 bits")
    }
    return value
  }

  private mutating func items(closing: Unicode.Scalar, depth: Int) throws -> [NumpyHeader.Literal] {
    var result: [NumpyHeader.Literal] = []
    while true {
      skipSpace()
      if position < scalars.count, scalars[position] == closing {
        position += 1
        return result
      }
      result.append(try value(depth: depth + 1))
      skipSpace()
      guard position < scalars.count else { throw failure("'\(closing)'") }
      if scalars[position] == "," {
        position += 1
      } else if scalars[position] != closing {
        throw failure("',' or '\(closing)'")
      }
    }
  }

  private mutating func dict(depth: Int) throws -> NumpyHeader.Literal {
    var entries: [(String, NumpyHeader.Literal)] = []
    while true {
      skipSpace()
      if position < scalars.count, scalars[position] == "}" {
        position += 1
        return .dict(entries)
      }
      guard case .string(let key) = try value(depth: depth + 1) else { throw failure("a string key") }
      skipSpace()
      guard position < scalars.count, scalars[position] == ":" else { throw failure("':' after a key") }
      position += 1
      entries.append((key, try value(depth: depth + 1)))
      skipSpace()
      guard position < scalars.count else { throw failure("'}'") }
      if scalars[position] == "," { position += 1 } else if scalars[position] != "}" { throw failure("',' or '}'") }
    }
  }
}
