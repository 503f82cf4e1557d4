import Foundation
import LatheTensor

// Convolution and pooling: windows over one, two or three (or more) spatial axes. One and two
// axes land on the engine's Conv2d and Pool2d (a 1-D input gets a unit height), so pruning,
// quantization and the fast kernels apply; more axes become ONNXConv and ONNXPool.

extension ONNXConverters {
  static func conv(_ n: NodeConversion) throws(NodeError) {
    let (x, w) = (try n.required(0, "X"), try n.requiredConstant(1, "W"))
    n.define(0, try conv(n, x, weight: w, bias: try n.constant(2, "B")))
  }

  /// Conv of `x` by a constant weight, with the node's attributes (QLinearConv and ConvInteger
  /// pass their zero-point-shifted operands).
  static func conv(
    _ n: NodeConversion, _ input: ValueRef, weight w: ONNXConstant, bias: ONNXConstant?
  ) throws(NodeError) -> ValueRef {
    var x = input
    let rank = n.shape(x).count
    guard rank >= 3, w.shape.count == rank else {
      throw NodeError("input \(n.shape(x)) and weight \(w.shape) need the same rank, 3 or more")
    }
    let kernel = Array(w.shape.dropFirst(2))
    if let declared = try n.attributes.ints("kernel_shape"), declared != kernel {
      throw NodeError("kernel_shape \(declared) does not match the weight's \(kernel)")
    }
    let groups = try n.attributes.int("group", 1)
    let channels = n.shape(x)[1]
    guard groups > 0, channels % groups == 0, w.shape[0] % groups == 0, w.shape[1] * groups == channels else {
      throw NodeError("weight \(w.shape) with group \(groups) does not fit \(channels) input channels")
    }
    guard bias == nil || bias!.count == w.shape[0] else {
      throw NodeError("bias has \(bias!.count) values, not \(w.shape[0])")
    }
    let window = try self.window(n, kernel: kernel, input: n.shape(x))
    let biasParameter = bias.map { Parameter($0.floats.reshaped([$0.count])) }
    guard rank <= 4 else {
      let layer = ONNXConv(weight: Parameter(w.floats), bias: biasParameter, window: window, groups: groups)
      return try n.emit(layer, [x], hints: [n.hint(0)])
    }
    var weight = w.floats
    if rank == 3 {
      x = try n.movement(ONNXOp(.unsqueeze(axes: [2])), x)
      weight = weight.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]])
    }
    let planar = window.planar
    let layer = Conv2d(
      weight: Parameter(weight), bias: biasParameter, stride: planar.stride, padding: planar.padding,
      dilation: planar.dilation, groups: groups)
    var y = try n.emit(layer, [x], hints: [n.hint(0)])
    if rank == 3 { y = try n.emit(ONNXOp(.squeeze(axes: [2])), [y], suffix: "_squeeze") }
    return y
  }

  static func convTranspose(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let x = try n.required(0, "X")
    let w = try n.requiredConstant(1, "W")
    let bias = try n.constant(2, "B")
    let shape = n.shape(x)
    let spatial = shape.count - 2
    guard spatial >= 1, w.shape.count == shape.count else {
      throw NodeError("input \(shape) and weight \(w.shape) need the same rank, 3 or more")
    }
    let groups = try a.int("group", 1)
    guard groups > 0, shape[1] == w.shape[0], w.shape[0] % groups == 0 else {
      throw NodeError("weight \(w.shape) does not fit input \(shape) with group \(groups)")
    }
    guard bias == nil || bias!.count == w.shape[1] * groups else {
      throw NodeError("bias has \(bias!.count) values, not \(w.shape[1] * groups)")
    }
    let kernel = Array(w.shape.dropFirst(2))
    if let declared = try a.ints("kernel_shape"), declared != kernel {
      throw NodeError("kernel_shape \(declared) does not match the weight's \(kernel)")
    }
    let ones = Array(repeating: 1, count: spatial)
    let stride = try a.ints("strides") ?? ones
    let dilation = try a.ints("dilations") ?? ones
    let outputPadding = try a.ints("output_padding") ?? ones.map { _ in 0 }
    var pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
    guard stride.count == spatial, dilation.count == spatial, outputPadding.count == spatial, pads.count == 2 * spatial,
      stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 })
    else { throw NodeError("strides, dilations, output_padding and pads must describe \(spatial) spatial axes") }
    let autoPad = try a.string("auto_pad", "NOTSET")
    guard ["NOTSET", "", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
      throw NodeError("auto_pad \"\(autoPad)\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    }
    var outputShape = try a.ints("output_shape")
    if let given = outputShape, given.count == spatial + 2 { outputShape = Array(given.dropFirst(2)) }
    if outputShape == nil, autoPad.hasPrefix("SAME"), !a.has("pads") {
      outputShape = (0..<spatial).map { shape[$0 + 2] * stride[$0] }
    }
    if let outputShape {
      // ONNX's rule: the padding that yields output_shape, split with floor division (a
      // negative total widens the output at the end).
      guard outputShape.count == spatial else {
        throw NodeError("output_shape \(outputShape) should have \(spatial) values")
      }
      for d in 0..<spatial {
        let total =
          stride[d] * (shape[d + 2] - 1) + outputPadding[d] + (kernel[d] - 1) * dilation[d] + 1 - outputShape[d]
        let half = Int((Double(total) / 2).rounded(.down))
        pads[d] = autoPad == "SAME_UPPER" ? half : total - half
        pads[d + spatial] = total - pads[d]
      }
    } else if autoPad == "VALID" {
      pads = Array(repeating: 0, count: 2 * spatial)
    }
    let layer = ONNXConvTranspose(
      weight: Parameter(w.floats), bias: bias.map { Parameter($0.floats.reshaped([$0.count])) }, stride: stride,
      padding: pads, dilation: dilation, outputPadding: outputPadding, groups: groups)
    n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
  }

  static func pool(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    var x = try n.required(0, "X")
    let rank = n.shape(x).count
    guard rank >= 3 else { throw NodeError("input \(n.shape(x)) has no spatial axis") }
    guard let kernel = try a.ints("kernel_shape"), kernel.count == rank - 2 else {
      throw NodeError("kernel_shape should have \(rank - 2) values")
    }
    let isMax = n.node.opType == "MaxPool"
    var window = try self.window(n, kernel: kernel, input: n.shape(x))
    window.ceilMode = try a.int("ceil_mode", 0) != 0
    let countIncludePad = try a.int("count_include_pad", 0) != 0
    if isMax, n.node.output.count > 1, !n.node.output[1].isEmpty {
      let order = try a.int("storage_order", 0)
      guard order == 0 || order == 1 else { throw NodeError("storage_order \(order) is not 0 or 1") }
      let indices = ONNXPool(.indices, window: window, storageOrder: order)
      n.define(1, try n.emit(indices, [x], hints: [n.hint(0)], suffix: "_indices"))
    }
    guard rank <= 4 else {
      let layer = ONNXPool(isMax ? .max : .average, window: window, countIncludePad: countIncludePad)
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
      return
    }
    if rank == 3 { x = try n.movement(ONNXOp(.unsqueeze(axes: [2])), x) }
    let layer = Pool2d(isMax ? .max : .average, geometry: window.planar, countIncludePad: countIncludePad)
    var y = try n.emit(layer, [x], hints: [n.hint(0)])
    if rank == 3 { y = try n.emit(ONNXOp(.squeeze(axes: [2])), [y], suffix: "_squeeze") }
    n.define(0, y)
  }

  /// Kernel, strides, pads and dilations of a Conv or pool, with auto_pad resolved.
  static func window(_ n: NodeConversion, kernel: [Int], input: [Int]) throws(NodeError) -> WindowND {
    let a = n.attributes
    let spatial = kernel.count
    let stride = try a.ints("strides") ?? Array(repeating: 1, count: spatial)
    let dilation = try a.ints("dilations") ?? Array(repeating: 1, count: spatial)
    var pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
    guard stride.count == spatial, dilation.count == spatial, pads.count == 2 * spatial,
      stride.allSatisfy({ $0 > 0 }), dilation.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }),
      kernel.allSatisfy({ $0 > 0 })
    else { throw NodeError("strides, dilations, pads or kernel do not describe \(spatial) spatial axes") }
    let autoPad = try a.string("auto_pad", "NOTSET")
    let sizes = Array(input.suffix(spatial))
    switch autoPad {
    case "SAME_UPPER", "SAME_LOWER":
      for d in 0..<spatial {
        let out = (sizes[d] + stride[d] - 1) / stride[d]
        let total = max(0, (out - 1) * stride[d] + (kernel[d] - 1) * dilation[d] + 1 - sizes[d])
        pads[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
        pads[d + spatial] = total - pads[d]
      }
    case "VALID": pads = Array(repeating: 0, count: 2 * spatial)
    case "NOTSET", "": break
    default: throw NodeError("auto_pad \"\(autoPad)\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    }
    return WindowND(kernel: kernel, stride: stride, pads: pads, dilation: dilation)
  }
}
