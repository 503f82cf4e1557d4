import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64) so that every
/// run with the same seed initialises, shuffles and drops out identically on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  public init(seed: UInt64) {
    var s = seed
    func splitMix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  public mutating func next() -> UInt64 {
    let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = state.3 << 45 | state.3 >> 19
    return result
  }

  /// Uniform in [0, 1).
  public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

  /// Standard normal, by Box–Muller.
  public mutating func nextNormal() -> Float {
    let u1 = max(nextUniform(), Float.leastNormalMagnitude)
    let u2 = nextUniform()
    return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
  }

  /// Fisher–Yates with this generator: the documented dataset splits rely on this exact order.
  public mutating func shuffle<T>(_ array: inout [T]) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      let j = Int(next() % UInt64(i + 1))
      array.swapAt(i, j)
    }
  }
}

extension Tensor where Scalar == Float {
  /// Uniform in [low, high).
  public static func uniform(_ shape: [Int], low: Float, high: Float, generator: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape) { p in
      for i in 0..<p.count { p[i] = low + (high - low) * generator.nextUniform() }
    }
  }

  public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout SeededGenerator) -> Tensor
  {
    Tensor(shape: shape) { p in
      for i in 0..<p.count { p[i] = mean + std * generator.nextNormal() }
    }
  }
}
