import Foundation
import LatheTensor

/// GatherElements, GatherND, ScatterElements (and Scatter, its name before opset 11) and
/// ScatterND onto `ONNXIndexOp`; OneHot onto `ONNXOneHot`. The indices must be constants: the layer resolves them to data
/// positions, and positions are integers the engine's fp32 would round past 2^24. Constant data
/// folds at load, exactly for integer types (a product of integers aside, which goes through
/// fp32 rather than risk overflowing).
extension ONNXConverters {
  /// Every operator `indexing` converts; `supported` lists them too.
  static let indexOps: Set<String> = [
    "GatherElements", "GatherND", "ScatterElements", "Scatter", "ScatterND", "OneHot", "TopK",
  ]

  static func indexing(_ n: NodeConversion) throws(NodeError) {
    let op = n.node.opType
    if op == "OneHot" { return try oneHot(n) }
    if op == "TopK" { return try topK(n) }
    let x = try n.required(0, "data")
    let indices = try n.requiredConstant(1, "indices")
    let rank = n.shape(x).count
    let a = n.attributes
    func axis() throws(NodeError) -> Int {
      let axis = try a.int("axis", 0)
      guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
        throw NodeError("axis \(axis) is out of range for rank \(rank)")
      }
      return resolved
    }
    func reduction() throws(NodeError) -> ONNXIndexOp.Reduction {
      let name = try a.string("reduction", "none")
      guard let r = ONNXIndexOp.Reduction(rawValue: name) else {
        throw NodeError("reduction \"\(name)\" is not none, add, mul, max or min")
      }
      return r
    }
    let kind: ONNXIndexOp.Kind
    switch op {
    case "GatherElements": kind = .gatherElements(axis: try axis())
    case "Scatter", "ScatterElements": kind = .scatterElements(axis: try axis(), reduction: try reduction())
    case "GatherND": kind = .gatherND(batchDims: try a.int("batch_dims", 0))
    case "ScatterND": kind = .scatterND(reduction: try reduction())
    default: throw NodeError("operator is not supported")
    }
    let layer = ONNXIndexOp(kind, indices: indices.ints, indicesShape: indices.shape)
    var inputs = [x]
    if kind.isScatter { inputs.append(try n.required(2, "updates")) }
    let constants = inputs.compactMap(\.constant)
    guard constants.count == inputs.count else {
      n.define(0, try n.emit(layer, inputs, hints: [n.hint(0), n.hint(2)]))
      return
    }
    try GraphImporter.checkShapes(layer, constants.map(\.shape))
    n.define(0, .constant(try fold(layer, constants)))
  }

  /// The layer's result on constants: integers picked and combined as integers.
  static func fold(_ layer: ONNXIndexOp, _ inputs: [ONNXConstant]) throws(NodeError) -> ONNXConstant {
    let data = inputs[0]
    let at: [Int]
    let shape: [Int]
    do { (shape, at) = try layer.positions(data.shape) } catch { throw NodeError("\(error)") }
    let exact = !data.isFloatingPoint && layer.kind.reduction != .mul
    if exact {
      let v = data.ints
      if layer.kind.isScatter {
        let y = ONNXIndexOp.scatter(v, inputs[1].ints, at, layer.kind.reduction).0
        return ONNXConstant(shape: data.shape, ints: y, elementType: data.elementType)
      }
      return ONNXConstant(shape: shape, ints: at.map { v[$0] }, elementType: data.elementType)
    }
    var context = ForwardContext.inference
    let y = layer.forward(inputs.map { Variable($0.floats) }, context: &context).value
    return ONNXConstant(y, elementType: .float).cast(to: data.elementType)
  }

  /// OneHot: depth and values must be constants; the indices may come at run time (as exact
  /// integer floats) and fold when they are constant.
  static func oneHot(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "indices")
    let depths = try n.requiredConstant(1, "depth")
    let values = try n.requiredConstant(2, "values")
    let depth = depths.ints.first ?? 0
    guard depths.count == 1, depth > 0 else {
      throw NodeError("depth \(depths.ints) should be one positive value")
    }
    guard values.count == 2 else { throw NodeError("values should be [off, on], not \(values.shape)") }
    let rank = n.shape(x).count
    let axis = try n.attributes.int("axis", -1)
    // The axis is one of the output's, which has one more than the indices.
    guard let resolved = ONNXShapes.axis(axis, rank: rank + 1) else {
      throw NodeError("axis \(axis) is out of range for an output of rank \(rank + 1)")
    }
    let v = values.floats.scalars
    let layer = ONNXOneHot(depth: depth, axis: resolved, off: v[0], on: v[1])
    if let c = x.constant {
      try GraphImporter.checkShapes(layer, [c.shape])
      var context = ForwardContext.inference
      let y = layer.forward([Variable(c.floats)], context: &context).value
      n.define(0, .constant(ONNXConstant(y, elementType: .float).cast(to: values.elementType)))
    } else {
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    }
  }

  /// TopK: k is a constant (an attribute before opset 10); each output read becomes its own
  /// layer, folded on a constant input. `sorted` = 0 leaves the order open, so sorted it is.
  static func topK(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "X")
    let rank = n.shape(x).count
    let a = n.attributes
    let k: Int
    if n.opset < 10 {
      k = try a.int("k", -1)
    } else {
      let ks = try n.requiredConstant(1, "K").ints
      guard ks.count == 1 else { throw NodeError("K \(ks) should be one value") }
      k = ks[0]
    }
    let axis = try a.int("axis", -1)
    guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
      throw NodeError("axis \(axis) is out of range for rank \(rank)")
    }
    let largest = try a.int("largest", 1) != 0
    for (i, output) in [ONNXTopK.Output.values, .indices].enumerated()
    where i < n.node.output.count && !n.node.output[i].isEmpty {
      let layer = ONNXTopK(k: k, axis: resolved, largest: largest, output: output)
      if let c = x.constant {
        try GraphImporter.checkShapes(layer, [c.shape])
        var context = ForwardContext.inference
        let y = layer.forward([Variable(c.floats)], context: &context).value
        let type = output == .indices ? Onnx_TensorProto.DataType.int64 : c.elementType
        n.define(i, .constant(ONNXConstant(y, elementType: .float).cast(to: type)))
      } else {
        n.define(i, try n.emit(layer, [x], hints: [n.hint(0)], suffix: i == 0 ? "" : "_indices"))
      }
    }
  }
}
