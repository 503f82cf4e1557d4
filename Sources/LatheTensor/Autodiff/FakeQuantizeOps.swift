import Foundation

// Fake quantization for quantization-aware training: the forward pass rounds values to the
// grid an integer kernel will use, so training sees (and learns around) the rounding error,
// while the values stay floats that autodiff can follow.

extension Tensor where Scalar == Float {
  /// Values snapped to the affine grid q = clamp(round(x / scale) + zeroPoint, qmin, qmax),
  /// y = (q − zeroPoint) · scale, with a mask that is 1 where the unclamped level lay inside
  /// [qmin, qmax]. One scale for the tensor, or one per slice along axis 0 (per channel).
  /// Rounds x · (1/scale) to nearest, ties to even, exactly as the int8 kernels quantize.
  public func fakeQuantizedWithMask(scales: [Float], zeroPoints: [Int32], qmin: Int32, qmax: Int32) -> (
    values: Tensor, inRange: Tensor
  ) {
    precondition(scales.count == zeroPoints.count && (scales.count == 1 || scales.count == shape[0]))
    let x = contiguous()
    let per = scales.count == 1 ? x.count : x.count / Swift.max(shape[0], 1)
    var mask = [Float](repeating: 0, count: x.count)
    let y = x.withUnsafeBufferPointer { src in
      Tensor(shape: shape) { out in
        for channel in 0..<scales.count {
          let inverse = 1 / scales[channel]
          let (scale, zero) = (scales[channel], Float(zeroPoints[channel]))
          let (low, high) = (Float(qmin), Float(qmax))
          for i in (channel * per)..<((channel + 1) * per) {
            let level = (src[i] * inverse).rounded(.toNearestOrEven) + zero
            mask[i] = level >= low && level <= high ? 1 : 0
            out[i] = (Swift.min(Swift.max(level, low), high) - zero) * scale
          }
        }
      }
    }
    return (y, Tensor(shape: shape, scalars: mask))
  }
}

extension Variable {
  /// Fake quantization with the straight-through estimator: the gradient passes unchanged
  /// where the value fell inside the quantization range and is zero where it was clipped
  /// (rounding has zero derivative almost everywhere, so the true gradient would stop
  /// training). `scales` has one entry (per tensor) or one per slice along axis 0.
  public func fakeQuantized(scales: [Float], zeroPoints: [Int32], qmin: Int32, qmax: Int32) -> Variable {
    let (y, inRange) = value.fakeQuantizedWithMask(scales: scales, zeroPoints: zeroPoints, qmin: qmin, qmax: qmax)
    return Variable(y, parents: [self]) { g in [g * inRange] }
  }
}
