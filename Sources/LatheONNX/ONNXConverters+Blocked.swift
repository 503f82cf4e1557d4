import Foundation
import LatheCompress
import LatheTensor

/// Weights that a blocked DequantizeLinear (opset 21) produced from int4 or int8 levels, kept so
/// the MatMul reading them can become a weight-only layer instead of an fp32 Linear.
struct BlockQuantizedWeight {
  /// Levels [k, n] row-major (MatMul's B layout).
  let levels: [Int]
  let shape: [Int]
  /// Scales [ceil(k / blockSize), n] row-major.
  let scales: [Float]
  let blockSize: Int
  let bits: Int

  /// The layer computing x · B for this weight: levels and scales transposed to the engine's
  /// [out, in] rows, one group per block.
  func layer() -> WeightOnlyLinear {
    let (k, n) = (shape[0], shape[1])
    let groups = (k + blockSize - 1) / blockSize
    var values = [Int8](repeating: 0, count: k * n)
    for i in 0..<k {
      for j in 0..<n { values[j * k + i] = Int8(levels[i * n + j]) }
    }
    var rowScales = [Float](repeating: 0, count: n * groups)
    for g in 0..<groups {
      for j in 0..<n { rowScales[j * groups + g] = scales[g * n + j] }
    }
    let weights = GroupQuantizedWeights(
      values: values, rows: n, columns: k, bits: bits, groupSize: blockSize, scales: rowScales)
    return WeightOnlyLinear(weights: weights, bias: nil)
  }
}

extension ONNXConverters {
  /// DequantizeLinear with block_size (opset 21): one scale (and zero point) per block of
  /// `blockSize` elements along `axis`. Folded at load, so its input must be a constant; a
  /// symmetric int4 or int8 matrix blocked along its rows (axis 0) in blocks the weight-only
  /// kernels take (multiples of 32) is remembered for the MatMul that reads it.
  static func blockedDequantization(_ n: NodeConversion, blockSize: Int) throws(NodeError) {
    let x = try n.requiredConstant(0, "x")
    let scale = try n.requiredConstant(1, "x_scale")
    let zero = try n.constant(2, "x_zero_point")
    let rank = x.shape.count
    var axis = try n.attributes.int("axis", 1)
    try checkBlocks(n, scale: scale, zero: zero, input: x.shape, axis: axis, blockSize: blockSize)
    if axis < 0 { axis += rank }
    let expected = scale.shape
    let levels = x.ints
    let scales = scale.floats.contiguous().scalars
    let zeros = zero?.ints ?? Array(repeating: 0, count: scales.count)
    let strides = Tensor<Float>.rowMajorStrides(x.shape)
    let scaleStrides = Tensor<Float>.rowMajorStrides(expected)
    var values = [Float](repeating: 0, count: levels.count)
    for i in 0..<levels.count {
      // The scale index: the same coordinates, the blocked axis divided by the block size.
      var rest = i
      var s = 0
      for d in 0..<rank {
        let coordinate = rest / strides[d]
        rest %= strides[d]
        s += (d == axis ? coordinate / blockSize : coordinate) * scaleStrides[d]
      }
      values[i] = Float(levels[i] - zeros[s]) * scales[s]
    }
    n.define(0, .constant(ONNXConstant(Tensor(shape: x.shape, scalars: values))))
    let bits = x.elementType == .int4 ? 4 : (x.elementType == .int8 ? 8 : 0)
    let symmetric = zeros.allSatisfy { $0 == 0 } && (bits == 4 || !levels.contains(-128))
    if rank == 2, axis == 0, bits > 0, symmetric, blockSize % 32 == 0, scales.allSatisfy({ $0 > 0 }),
      let output = n.node.output.first
    {
      n.importer.blockQuantized[output] = BlockQuantizedWeight(
        levels: levels, shape: x.shape, scales: scales, blockSize: blockSize, bits: bits)
    }
  }

  /// Blocked (opset 21) scales and zero points: x's shape with the blocked axis divided, rounding up.
  static func checkBlocks(
    _ n: NodeConversion, scale: ONNXConstant, zero: ONNXConstant?, input: [Int], axis rawAxis: Int, blockSize: Int
  ) throws(NodeError) {
    guard blockSize > 0, blockSize <= ShapeRules.maximumElements else {
      throw NodeError("block_size \(blockSize) should be in 1...\(ShapeRules.maximumElements)")
    }
    let rank = input.count
    let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
    guard axis >= 0, axis < rank else { throw NodeError("axis \(rawAxis) is out of range for rank \(rank)") }
    var expected = input
    expected[axis] = (input[axis] + blockSize - 1) / blockSize
    guard scale.shape == expected else {
      throw NodeError("scale has shape \(scale.shape); blocks of \(blockSize) along axis \(axis) need \(expected)")
    }
    guard zero == nil || zero!.shape == expected else {
      throw NodeError("zero point has shape \(zero!.shape); it must match the scale's \(expected)")
    }
  }
}
