import Foundation

/// Deterministic damage to a text file: the kinds of change a fuzzer, a bad merge or a careless
/// edit make (bit flips, truncation, inserted and deleted bytes, duplicated lines, changed
/// indentation, numbers replaced with extreme ones, YAML fragments inserted). Seeded, so a
/// failure names a mutant that can be made again. Every text-format mutation test uses it.
public struct TextMutator {
  public var state: UInt64
  /// Text inserted whole; `yamlFragments` by default, plus what the format adds (placeholders).
  public var fragments: [String]

  public init(seed: UInt64, fragments: [String] = TextMutator.yamlFragments) {
    state = seed
    self.fragments = fragments
  }

  /// SplitMix64: tiny and fully deterministic across platforms.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  public mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

  public static let numbers = [
    "1e300", "-1e300", "1e999", "-1e999", "nan", ".nan", "inf", ".inf", "-1", "0", "-0.0", "9223372036854775807",
    "-9223372036854775808", "99999999999999999999", "4.9e-324", "2147483648", "1e-320",
  ]
  public static let yamlFragments = [
    "&a ", "*a", "[[[[[[", "{", "}", ": ", "- ", "\t", "'", "\"", "#", "\n", "? ", "!!binary ",
  ]
  /// For tutorial and theme files: YAML's without the tag, and tutorial placeholders.
  public static let tutorialFragments =
    Array(yamlFragments.dropLast()) + ["{model}", "{search.best.x}", "{layer.fc1.sparsity}", "{"]

  /// One to three changes to `data`.
  public mutating func mutate(_ data: Data) -> Data {
    var bytes = [UInt8](data)
    for _ in 0...below(3) { bytes = mutateOnce(bytes) }
    return Data(bytes)
  }

  public mutating func mutateOnce(_ bytes: [UInt8]) -> [UInt8] {
    guard !bytes.isEmpty else { return bytes }
    var b = bytes
    switch below(9) {
    case 0: b[below(b.count)] ^= UInt8(1 << below(8))
    case 1: b = Array(b.prefix(below(b.count)))
    case 2: b.insert(UInt8(truncatingIfNeeded: next()), at: below(b.count + 1))
    case 3: b.removeSubrange(rangeAt(b.count, length: 1 + below(8)))
    case 4: b = lines(b) { lines, i in lines.insert(lines[i], at: i) }
    case 5:
      let indent = [UInt8](repeating: 0x20, count: 1 + below(6))
      b = lines(b) { lines, i in lines[i] = indent + lines[i] }
    case 6: b = lines(b) { lines, i in lines[i] = Array(lines[i].drop { $0 == 0x20 }) }
    case 7: b = replaceNumber(b)
    default: b.insert(contentsOf: Array(fragments[below(fragments.count)].utf8), at: below(b.count + 1))
    }
    return b
  }

  mutating func rangeAt(_ count: Int, length: Int) -> Range<Int> {
    let start = below(count)
    return start..<min(start + length, count)
  }

  mutating func lines(_ b: [UInt8], _ change: (inout [[UInt8]], Int) -> Void) -> [UInt8] {
    var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    change(&lines, below(lines.count))
    return Array(lines.joined(separator: [0x0A]))
  }

  /// A number in the text (or, without one, any word after ": ") replaced by an extreme one.
  mutating func replaceNumber(_ b: [UInt8]) -> [UInt8] {
    let isNumberByte: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x65 }
    var starts: [Int] = []
    for i in b.indices where b[i] >= 0x30 && b[i] <= 0x39 && (i == 0 || !isNumberByte(b[i - 1])) { starts.append(i) }
    guard !starts.isEmpty else { return b }
    let start = starts[below(starts.count)]
    var end = start
    while end < b.count, isNumberByte(b[end]) { end += 1 }
    var result = b
    result.replaceSubrange(start..<end, with: Array(Self.numbers[below(Self.numbers.count)].utf8))
    return result
  }
}
