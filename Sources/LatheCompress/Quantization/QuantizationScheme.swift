import Foundation

/// Affine quantization of real values to 8-bit integers: real = (q − zeroPoint) · scale.
public struct QuantizationParameters: Sendable, Equatable, Codable {
  public var scale: Float
  public var zeroPoint: Int32

  public init(scale: Float, zeroPoint: Int32) {
    self.scale = scale
    self.zeroPoint = zeroPoint
  }

  /// u8 parameters covering [low, high] (widened to include 0, so that zero padding and ReLU
  /// zeros are exact). `symmetric` centres the range on 0 with zero point 128.
  public static func unsigned(low: Float, high: Float, symmetric: Bool) -> QuantizationParameters {
    var lo = min(low, 0)
    var hi = max(high, 0)
    if symmetric {
      let bound = max(abs(lo), abs(hi))
      lo = -bound
      hi = bound
    }
    let span = max(hi - lo, 1e-8)
    let scale = span / 255
    if symmetric { return QuantizationParameters(scale: scale, zeroPoint: 128) }
    let zero = Int32((-lo / scale).rounded()).clamped(0, 255)
    return QuantizationParameters(scale: scale, zeroPoint: zero)
  }

  /// Symmetric s8 parameters for weights with largest magnitude `bound` (range −127…127).
  public static func signed(bound: Float) -> QuantizationParameters {
    QuantizationParameters(scale: max(bound, 1e-8) / 127, zeroPoint: 0)
  }
}

/// How weights are grouped under one scale.
public enum QuantizationGranularity: String, Sendable, CaseIterable {
  /// One scale for the whole tensor.
  case perTensor = "per-tensor"
  /// One scale per output channel (row of a Linear weight, filter of a convolution).
  case perChannel = "per-channel"
}

/// Where activation ranges come from.
public enum ActivationQuantization: String, Sendable, CaseIterable {
  /// Calibrated once on sample data; fixed in the model file.
  case staticRange = "static"
  /// Measured on every batch at run time (no calibration; a min/max pass per layer).
  case dynamicRange = "dynamic"
}

extension Comparable {
  func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
