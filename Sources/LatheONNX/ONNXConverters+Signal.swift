import Foundation
import LatheTensor

// Window functions, ReverseSequence, Swish and Col2Im: operators that are other layers in
// disguise, or (Col2Im) an index map summed.
// HannWindow, HammingWindow and BlackmanWindow depend only on their constant size and fold at
// load; ReverseSequence with constant lengths is a GatherElements along the time axis; Swish
// is x·sigmoid(αx); Col2Im, with constant image and block shapes, is `ONNXCol2Im`.
extension ONNXConverters {
  /// Every operator `signal` converts; `supported` lists them too.
  static let signalOps: Set<String> = [
    "HannWindow", "HammingWindow", "BlackmanWindow", "ReverseSequence", "Swish", "Col2Im",
  ]

  static func signal(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "ReverseSequence": try reverseSequence(n)
    case "Col2Im":
      let x = try n.required(0, "input")
      let image = try n.requiredConstant(1, "image_shape").ints
      let block = try n.requiredConstant(2, "block_shape").ints
      let ones = Array(repeating: 1, count: image.count)
      let layer = ONNXCol2Im(
        imageShape: image, blockShape: block, dilations: try n.attributes.ints("dilations") ?? ones,
        pads: try n.attributes.ints("pads") ?? (ones + ones).map { _ in 0 },
        strides: try n.attributes.ints("strides") ?? ones)
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    case "Swish":
      let x = try n.required(0, "X")
      let alpha = try n.attributes.float("alpha", 1)
      let scaled = try n.emit(ONNXOp(.mul), [x, .constant(ONNXConstant(Tensor(alpha)))], suffix: "_alpha")
      let gate = try n.emit(Function(.sigmoid), [scaled], suffix: "_sigmoid")
      n.define(0, try n.emit(ONNXOp(.mul), [x, gate], hints: [n.hint(0), n.name]))
    default: try window(n)
    }
  }

  /// The window of the given size: periodic (the default) divides by N, symmetric by N - 1.
  static func window(_ n: NodeConversion) throws(NodeError) {
    let size = try n.requiredConstant(0, "size").ints.first ?? 0
    guard size >= 0, size <= ShapeRules.maximumElements else {
      throw NodeError("size \(size) should be 0 to \(ShapeRules.maximumElements)")
    }
    let periodic = try n.attributes.int("periodic", 1) != 0
    let length = Double(periodic ? size : size - 1)
    let values = (0..<size).map { i -> Float in
      let phase = 2 * Double.pi * Double(i) / length
      switch n.node.opType {
      case "HannWindow": return Float(0.5 - 0.5 * cos(phase))
      case "HammingWindow": return Float(25.0 / 46 - (1 - 25.0 / 46) * cos(phase))
      default: return Float(0.42 - 0.5 * cos(phase) + 0.08 * cos(2 * phase))
      }
    }
    let type = Onnx_TensorProto.DataType(rawValue: try n.attributes.int("output_datatype", 1)) ?? .float
    n.define(0, .constant(ONNXConstant(Tensor(shape: [size], scalars: values)).cast(to: type)))
  }

  /// Each batch entry's first `sequence_lens` steps reversed along the time axis, the rest kept.
  static func reverseSequence(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "input")
    let lengths = try n.requiredConstant(1, "sequence_lens").ints
    let shape = n.shape(x)
    let (batchAxis, timeAxis) = (try n.attributes.int("batch_axis", 1), try n.attributes.int("time_axis", 0))
    guard shape.count >= 2, [batchAxis, timeAxis].sorted() == [0, 1] else {
      throw NodeError("batch_axis \(batchAxis) and time_axis \(timeAxis) should be 0 and 1 of \(shape)")
    }
    guard lengths.count == shape[batchAxis], lengths.allSatisfy({ (0...shape[timeAxis]).contains($0) }) else {
      throw NodeError("sequence_lens \(lengths) should hold one length of 0 to \(shape[timeAxis]) per batch entry")
    }
    // Each output element's source position along the time axis.
    let indices = IndexMap.build(shape) { c in
      let (b, t) = (c[batchAxis], c[timeAxis])
      return t < lengths[b] ? lengths[b] - 1 - t : t
    }
    let layer = ONNXIndexOp(.gatherElements(axis: timeAxis), indices: indices, indicesShape: shape)
    if let c = x.constant {
      n.define(0, .constant(try fold(layer, [c])))
    } else {
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    }
  }
}
