import Foundation

/// SplitMix64: a small, fast, seedable generator. Every random choice in a study comes from one
/// of these, seeded by the study's seed and the trial number, so a study replays exactly.
public struct SearchRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  /// The generator for one trial's choices: independent of how many draws other trials made.
  public init(seed: UInt64, stream: Int, salt: UInt64 = 0) {
    var mixer = SearchRandom(seed: seed ^ 0x9E37_79B9_7F4A_7C15 &* (UInt64(truncatingIfNeeded: stream) &+ 1) ^ salt)
    state = mixer.next()
  }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1).
  public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal (Box–Muller).
  public mutating func normal() -> Double {
    let u1 = max(unit(), 1e-300)
    let u2 = unit()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// Uniform integer in 0..<n.
  public mutating func index(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Standard normal density and distribution function, for Parzen estimators and expected improvement.
enum Gaussian {
  static func pdf(_ x: Double) -> Double { exp(-0.5 * x * x) / (2 * Double.pi).squareRoot() }
  static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
}
