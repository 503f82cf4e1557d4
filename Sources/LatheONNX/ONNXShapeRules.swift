import Foundation
import LatheTensor

// Shape rules for the layers LatheONNX defines. Kernels trust their shapes (a mismatch is a trap,
// an absurd size a failed allocation), so the importer asks these rules before it runs a layer
// on its probe inputs or folds it on constants, and `Model.checkShapes()` asks them when a saved
// model with imported layers is loaded. Each rule mirrors what the layer's `forward` computes.

/// Checked arithmetic on shapes that come from a file.
enum ONNXShapes {
  /// The largest kernel, stride, padding, dilation or spatial size a window may have: far past
  /// any image, and small enough that window arithmetic cannot overflow.
  static let windowLimit = 1 << 20

  /// The product of `values`, or nil when it or any one value passes `ShapeRules.maximumElements`
  /// (a huge value after a 0 would not show in the product, but overflows later arithmetic).
  /// Rules compare `magnitude`, not `abs`, which traps on `Int.min`.
  static func product(_ values: some Sequence<Int>) -> Int? {
    var result = 1
    for v in values {
      guard v.magnitude <= ShapeRules.maximumElements else { return nil }
      let (p, overflow) = result.multipliedReportingOverflow(by: v)
      guard !overflow, p.magnitude <= ShapeRules.maximumElements else { return nil }
      result = p
    }
    return result
  }

  /// `axis` counted from the end when negative, or nil when outside `0..<rank`.
  static func axis(_ axis: Int, rank: Int) -> Int? {
    let a = axis < 0 ? axis + rank : axis
    return (0..<rank).contains(a) ? a : nil
  }

  /// The one input a unary layer reads.
  static func single(_ inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.same(inputs)
  }

  /// NumPy broadcasting of every input, or an error naming the shapes.
  static func broadcast(_ inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard var result = inputs.first else { throw ShapeError("reads no inputs") }
    for shape in inputs.dropFirst() {
      guard let joined = broadcastShape(result, shape) else {
        throw ShapeError("input shapes \(inputs) do not broadcast")
      }
      result = joined
    }
    return result
  }
}

// MARK: - ONNXOp

extension ONNXOp: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    switch kind {
    case .identity, .onesLike, .unary, .elu, .selu, .softplus, .softsign, .hardSigmoid, .clip:
      return try ONNXShapes.single(inputs)
    case .sub, .mul, .div:
      try ShapeRules.inputs(inputs, count: 2)
      return try ONNXShapes.broadcast(inputs)
    case .matmul:
      try ShapeRules.inputs(inputs, count: 2)
      return try Self.matmulShape(inputs[0], inputs[1])
    case .reshape(let shape, let allowZero):
      return try Self.reshapeShape(shape, allowZero: allowZero, of: ONNXShapes.single(inputs))
    case .flatten(let axis): return try Self.flattenShape(axis, of: ONNXShapes.single(inputs))
    case .transpose(let permutation):
      let x = try ONNXShapes.single(inputs)
      if permutation.isEmpty { return x.reversed() }
      guard permutation.sorted() == Array(0..<x.count) else {
        throw ShapeError("perm \(permutation) is not a permutation of the axes of \(x)")
      }
      return permutation.map { x[$0] }
    case .squeeze(let axes): return try Self.squeezeShape(axes, of: ONNXShapes.single(inputs))
    case .unsqueeze(let axes): return try Self.unsqueezeShape(axes, of: ONNXShapes.single(inputs))
    case .slice(let starts, let ends, let axes, let steps):
      return try Self.sliceShape(ONNXShapes.single(inputs), starts: starts, ends: ends, axes: axes, steps: steps)
    case .gather(let axis, let indices, let indicesShape):
      let x = try ONNXShapes.single(inputs)
      guard let a = ONNXShapes.axis(axis, rank: x.count) else { throw ShapeError("axis \(axis) is outside \(x)") }
      guard ONNXShapes.product(indicesShape) == indices.count, x[a] > 0 || indices.isEmpty else {
        throw ShapeError("\(indices.count) indices do not fill shape \(indicesShape) or axis \(a) of \(x) is empty")
      }
      return Array(x[..<a]) + indicesShape + Array(x[(a + 1)...])
    case .pad(let pads, let mode, _): return try Self.padShape(pads, mode: mode, of: ONNXShapes.single(inputs))
    case .expand(let shape):
      let x = try ONNXShapes.single(inputs)
      guard shape.allSatisfy({ $0 >= 0 }), let out = broadcastShape(x, shape) else {
        throw ShapeError("cannot expand \(x) to \(shape)")
      }
      return out
    case .lrn(let size, _, _, _):
      let x = try ONNXShapes.single(inputs)
      guard x.count >= 2, size > 0, size <= ONNXShapes.windowLimit else {
        throw ShapeError("needs input [batch, channels, ...] and a size in 1...\(ONNXShapes.windowLimit), gets \(x)")
      }
      return x
    case .globalMaxPool:
      let x = try ONNXShapes.single(inputs)
      guard x.count >= 3 else { throw ShapeError("needs input [batch, channels, spatial...], gets \(x)") }
      return Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)
    case .reduceMean(let axes, let keep), .reduceSum(let axes, let keep):
      return try Self.reduceShape(axes, keepDims: keep, of: ONNXShapes.single(inputs))
    case .softmax(let axis, _), .logSoftmax(let axis, _):
      let x = try ONNXShapes.single(inputs)
      guard ONNXShapes.axis(axis, rank: x.count) != nil else { throw ShapeError("axis \(axis) is outside \(x)") }
      return x
    }
  }

  /// ONNX MatMul (NumPy semantics): vectors are promoted, batch axes broadcast.
  static func matmulShape(_ a: [Int], _ b: [Int]) throws(ShapeError) -> [Int] {
    guard !a.isEmpty, !b.isEmpty else { throw ShapeError("multiplies operands of rank 1 or more, gets \(a) and \(b)") }
    let left = a.count == 1 ? [1] + a : a
    let right = b.count == 1 ? b + [1] : b
    guard left.last == right[right.count - 2] else { throw ShapeError("shapes \(a) and \(b) do not multiply") }
    guard let batch = broadcastShape(Array(left.dropLast(2)), Array(right.dropLast(2))) else {
      throw ShapeError("batch axes of \(a) and \(b) do not broadcast")
    }
    var out = batch + [left[left.count - 2], right[right.count - 1]]
    if a.count == 1 { out.remove(at: out.count - 2) }
    if b.count == 1 { out.removeLast() }
    return out
  }

  /// The resolved target of a Reshape, checked to hold exactly the input's elements.
  static func reshapeShape(_ shape: [Int], allowZero: Bool, of x: [Int]) throws(ShapeError) -> [Int] {
    guard shape.filter({ $0 == -1 }).count <= 1 else { throw ShapeError("shape \(shape) has more than one -1") }
    guard let resolved = target(shape, allowZero: allowZero, of: x), resolved.allSatisfy({ $0 >= 0 }),
      ONNXShapes.product(resolved) == ONNXShapes.product(x)
    else { throw ShapeError("cannot reshape \(x) to \(shape)") }
    return resolved
  }

  static func flattenShape(_ axis: Int, of x: [Int]) throws(ShapeError) -> [Int] {
    let a = axis < 0 ? axis + x.count : axis
    guard (0...x.count).contains(a), let before = ONNXShapes.product(x[..<a]),
      let after = ONNXShapes.product(x[a...])
    else { throw ShapeError("axis \(axis) is outside \(x)") }
    return [before, after]
  }

  static func squeezeShape(_ axes: [Int], of x: [Int]) throws(ShapeError) -> [Int] {
    var drop: Set<Int> = []
    for axis in axes {
      guard let a = ONNXShapes.axis(axis, rank: x.count), x[a] == 1 else {
        throw ShapeError("axis \(axis) of \(x) is not of size 1")
      }
      drop.insert(a)
    }
    if axes.isEmpty { drop = Set(x.indices.filter { x[$0] == 1 }) }
    return x.indices.filter { !drop.contains($0) }.map { x[$0] }
  }

  static func unsqueezeShape(_ axes: [Int], of x: [Int]) throws(ShapeError) -> [Int] {
    let rank = x.count + axes.count
    let added = Set(axes.compactMap { ONNXShapes.axis($0, rank: rank) })
    // Every axis must land inside the new rank, each on its own position.
    guard !axes.isEmpty, added.count == axes.count else {
      throw ShapeError("axes \(axes) are not distinct axes of the rank-\(rank) output")
    }
    var source = x.makeIterator()
    return (0..<rank).map { added.contains($0) ? 1 : source.next() ?? 1 }
  }

  static func sliceShape(
    _ x: [Int], starts: [Int], ends: [Int], axes: [Int], steps: [Int]
  ) throws(ShapeError) -> [Int] {
    let sliced = axes.isEmpty ? Array(0..<starts.count) : axes
    guard ends.count == starts.count, sliced.count == starts.count, steps.count <= starts.count else {
      throw ShapeError("starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
    }
    var out = x
    var seen: Set<Int> = []
    for (i, rawAxis) in sliced.enumerated() {
      guard let axis = ONNXShapes.axis(rawAxis, rank: x.count), seen.insert(axis).inserted else {
        throw ShapeError("axis \(rawAxis) is outside \(x) or repeated")
      }
      let step = i < steps.count ? steps[i] : 1
      // Steps and bounds past the axis are clamped by the layer; a zero step never ends, and
      // values near Int's limits would overflow the arithmetic below.
      let bound = Int(Int32.max)
      guard step != 0, step.magnitude <= bound else { throw ShapeError("step \(step) on axis \(rawAxis) is 0 or huge") }
      let dim = x[axis]
      var start = min(max(starts[i], -bound), bound)
      var end = min(max(ends[i], -bound), bound)
      if start < 0 { start += dim }
      if end < 0 { end += dim }
      if step > 0 {
        (start, end) = (min(max(start, 0), dim), min(max(end, 0), dim))
        out[axis] = max(0, (end - start + step - 1) / step)
      } else {
        (start, end) = (min(max(start, -1), dim - 1), min(max(end, -1), dim - 1))
        out[axis] = max(0, (start - end - step - 1) / -step)
      }
    }
    return out
  }

  static func padShape(_ pads: [Int], mode: String, of x: [Int]) throws(ShapeError) -> [Int] {
    guard pads.count == 2 * x.count else { throw ShapeError("pads \(pads) should have \(2 * x.count) values for \(x)") }
    var out = x
    for d in x.indices {
      let (before, after) = (pads[d], pads[d + x.count])
      guard before.magnitude <= ShapeRules.maximumElements, after.magnitude <= ShapeRules.maximumElements,
        x[d] + before + after >= 0
      else { throw ShapeError("pads \(pads) do not fit \(x)") }
      out[d] = x[d] + before + after
      // Edge, reflect and wrap padding copy from the axis, which must then hold something.
      if mode != "constant", out[d] > 0, x[d] == 0 { throw ShapeError("\(mode) padding of an empty axis in \(x)") }
    }
    return out
  }

  static func reduceShape(_ axes: [Int], keepDims: Bool, of x: [Int]) throws(ShapeError) -> [Int] {
    var reduced: Set<Int> = []
    for axis in axes {
      guard let a = ONNXShapes.axis(axis, rank: x.count), reduced.insert(a).inserted else {
        throw ShapeError("axes \(axes) are not distinct axes of \(x)")
      }
    }
    if axes.isEmpty { reduced = Set(x.indices) }
    return x.indices.compactMap { reduced.contains($0) ? (keepDims ? 1 : nil) : x[$0] }
  }
}

// MARK: - Layers with parameters

extension ONNXConstantLayer: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] { value.shape }
}

extension ONNXPRelu: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    guard broadcastShape(slope.shape, x) == x else { throw ShapeError("slope \(slope.shape) does not fit input \(x)") }
    return x
  }
}

extension WindowND {
  /// The output of this window over input [N, C, sizes...], or why it cannot run: every value
  /// within `ONNXShapes.windowLimit`, lengths agreeing, and room for at least one window.
  func outputShape(of x: [Int], channels: Int?, outputs: Int?) throws(ShapeError) -> [Int] {
    guard x.count == spatial + 2, stride.count == spatial, dilation.count == spatial, pads.count == 2 * spatial else {
      throw ShapeError("a \(spatial)-D window needs input [batch, channels, \(spatial) sizes], gets \(x)")
    }
    if let channels, x[1] != channels { throw ShapeError("needs \(channels) input channels, gets \(x)") }
    let limit = ONNXShapes.windowLimit
    let values = kernel + stride + pads + dilation + x.dropFirst(2)
    guard values.allSatisfy({ $0 >= 0 && $0 <= limit }), kernel.allSatisfy({ $0 > 0 }),
      stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 })
    else {
      throw ShapeError(
        "window kernel \(kernel), stride \(stride), pads \(pads), dilation \(dilation) over \(x) is out of range "
          + "(each 0...\(limit), kernel, stride and dilation > 0)")
    }
    let sizes = outputSizes(Array(x.dropFirst(2)))
    guard sizes.allSatisfy({ $0 > 0 }) else { throw ShapeError("a \(kernel) window does not fit input \(x)") }
    // The layers gather one index per (output position, kernel offset) for every plane.
    guard let planes = ONNXShapes.product(x.prefix(2)), let positions = ONNXShapes.product(sizes),
      let offsets = ONNXShapes.product(kernel), ONNXShapes.product([planes, positions, offsets]) != nil
    else { throw ShapeError("a \(kernel) window over \(x) gathers too many values") }
    return [x[0], outputs ?? x[1]] + sizes
  }
}

extension ONNXConv: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try window.outputShape(
      of: ONNXShapes.single(inputs), channels: weight.shape[1] * groups, outputs: weight.shape[0])
  }
}

extension ONNXPool: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try window.outputShape(of: ONNXShapes.single(inputs), channels: nil, outputs: nil)
  }
}

extension ONNXConvTranspose: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    let spatial = kernel.count
    guard x.count == spatial + 2, x[1] == weight.shape[0] else {
      throw ShapeError("needs input [batch, \(weight.shape[0]), \(spatial) sizes], gets \(x)")
    }
    let limit = ONNXShapes.windowLimit
    guard (stride + dilation + outputPadding + x.dropFirst(2)).allSatisfy({ $0 >= 0 && $0 <= limit }),
      padding.allSatisfy({ $0.magnitude <= limit }),
      stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 })
    else {
      throw ShapeError(
        "stride \(stride), pads \(padding), dilation \(dilation), output_padding \(outputPadding) over \(x) is out "
          + "of range (each within \(limit))")
    }
    // The layer zero-stuffs the input, pads it by the kernel's extent and convolves (forward).
    var sizes: [Int] = []
    for d in 0..<spatial {
      let extent = dilation[d] * (kernel[d] - 1)
      let stuffed = (x[d + 2] - 1) * stride[d] + 1 + 2 * extent - padding[d] - padding[d + spatial] + outputPadding[d]
      let size = stuffed - extent
      guard x[d + 2] > 0, size > 0 else { throw ShapeError("output_shape or pads leave no output for \(x)") }
      sizes.append(size)
    }
    return [x[0], weight.shape[1] * groups] + sizes
  }
}

extension ONNXQuantization: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    let (scales, zeros) = (scale.shape, zeroPoint.shape)
    guard ONNXShapes.product(scales) == ONNXShapes.product(zeros) else {
      throw ShapeError("scale \(scales) and zero point \(zeros) differ in size")
    }
    if blockSize > 0 {
      // Blocked: one scale per block along `axis`, one per element (or one for all) elsewhere.
      guard scales.count == x.count, (0..<x.count).contains(axis) else {
        throw ShapeError("blocked scale \(scales) does not have the rank of input \(x)")
      }
      for d in x.indices {
        let needed = d == axis ? (x[d] + blockSize - 1) / blockSize : x[d]
        guard scales[d] == needed || scales[d] == 1 else {
          throw ShapeError("blocked scale \(scales) does not fit input \(x) with block size \(blockSize)")
        }
      }
      return x
    }
    guard scale.value.count > 1 else { return x }
    guard let a = ONNXShapes.axis(axis, rank: x.count), x[a] == scale.value.count, scales.count == 1 else {
      throw ShapeError("\(scale.value.count) scales do not match axis \(axis) of input \(x)")
    }
    return x
  }
}

extension ONNXBatchNormTraining: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    let channels = scale.value.count
    guard x.count >= 2, x[1] == channels else { throw ShapeError("needs \(channels) channels on axis 1, gets \(x)") }
    return output == .normalized ? x : [channels]
  }
}
