import Foundation
import LatheCompress

/// SplitMix64: a tiny seeded generator, so every test sees the same "random" data on every run.
struct EntropyCodingRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A standard normal sample (Box–Muller).
  mutating func normal() -> Double {
    let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
    let u2 = Double.random(in: 0..<1, using: &self)
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// A geometric sample: the number of failures before the first success of probability `p`,
  /// capped at `maximum`.
  mutating func geometric(_ p: Double, maximum: Int) -> Int {
    var count = 0
    while count < maximum && Double.random(in: 0..<1, using: &self) >= p { count += 1 }
    return count
  }
}

enum EntropyCodingStatistics {
  /// Shannon entropy, in bits per symbol, of the empirical distribution of `symbols`.
  static func entropy(_ symbols: [UInt16]) -> Double {
    var counts: [UInt16: Int] = [:]
    for symbol in symbols { counts[symbol, default: 0] += 1 }
    let total = Double(symbols.count)
    return counts.values.reduce(0) { sum, count in
      let p = Double(count) / total
      return sum - p * log2(p)
    }
  }

  /// The Kraft sum of a set of code lengths; at most 1 for every prefix code.
  static func kraftSum(_ lengths: [UInt8]) -> Double {
    lengths.reduce(0) { $1 == 0 ? $0 : $0 + pow(2, -Double($1)) }
  }

  /// Whether no codeword is a prefix of another: after sorting the codewords as bit strings, a
  /// codeword that prefixes any other prefixes the one right after it.
  static func isPrefixFree(_ code: CanonicalHuffmanCode) -> Bool {
    let words = code.lengths.indices.filter { code.lengths[$0] > 0 }.map { symbol in
      let length = Int(code.lengths[symbol])
      return (aligned: UInt64(code.codewords[symbol]) << (64 - length), length: length)
    }.sorted { ($0.aligned, $0.length) < ($1.aligned, $1.length) }
    for (shorter, next) in zip(words, words.dropFirst()) {
      let mask: UInt64 = ~0 << (64 - shorter.length)
      if next.aligned & mask == shorter.aligned { return false }
    }
    return true
  }
}
