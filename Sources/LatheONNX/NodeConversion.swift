import Foundation
import LatheTensor

/// One ONNX node being converted: its inputs as references, its attributes, and the ways to
/// add layers for it or define its outputs.
struct NodeConversion {
  let node: Onnx_NodeProto
  let importer: GraphImporter
  let attributes: ONNXAttributes

  init(node: Onnx_NodeProto, importer: GraphImporter) {
    self.node = node
    self.importer = importer
    attributes = ONNXAttributes(node)
  }

  var opset: Int { importer.opset }
  var name: String { node.name.isEmpty ? (node.output.first ?? node.opType) : node.name }

  func input(_ i: Int) throws(NodeError) -> ValueRef? {
    guard i < node.input.count, !node.input[i].isEmpty else { return nil }
    guard let ref = importer.values[node.input[i]] else {
      throw NodeError("input \"\(node.input[i])\" is produced by no earlier node, initializer or graph input")
    }
    return ref
  }

  func required(_ i: Int, _ what: String) throws(NodeError) -> ValueRef {
    guard let ref = try input(i) else { throw NodeError("input \(i) (\(what)) is missing") }
    return ref
  }

  /// An input that must be known at load time (a weight, a shape, slice bounds).
  func constant(_ i: Int, _ what: String) throws(NodeError) -> ONNXConstant? {
    guard let ref = try input(i) else { return nil }
    guard let c = ref.constant else {
      throw NodeError("input \(i) (\(what)) is computed at run time; Lathe needs it constant (an initializer)")
    }
    return c
  }

  /// Input `i` when it is computed at run time (a shape read from a symbolic size, token
  /// ids); nil when it is absent or a constant.
  func runtime(_ i: Int) throws(NodeError) -> ValueRef? {
    guard let ref = try input(i), ref.constant == nil else { return nil }
    return ref
  }

  func requiredConstant(_ i: Int, _ what: String) throws(NodeError) -> ONNXConstant {
    guard let c = try constant(i, what) else { throw NodeError("input \(i) (\(what)) is missing") }
    return c
  }

  /// The shape of a value (in the first probing pass for run-time values).
  func shape(_ ref: ValueRef) -> [Int] {
    switch ref {
    case .constant(let c): return c.shape
    case .runtime(_, let shapes): return shapes[0]
    }
  }

  /// Shapes of a value in every probing pass (dimensions that differ are the batch).
  func shapes(_ ref: ValueRef) -> [[Int]] { importer.shapes(ref) }

  func hint(_ i: Int) -> String { i < node.input.count ? node.input[i] : name }

  func define(_ output: Int, _ ref: ValueRef) {
    guard output < node.output.count, !node.output[output].isEmpty else { return }
    importer.values[node.output[output]] = ref
  }

  /// Adds a layer reading the given inputs of this node (by index) or earlier references.
  func emit(
    _ layer: Layer, _ inputs: [ValueRef], hints: [String]? = nil, suffix: String = ""
  ) throws(NodeError) -> ValueRef {
    let named = inputs.enumerated().map { (k, ref) in (ref: ref, hint: hints?[k] ?? "\(name)_const\(k)") }
    return try importer.emit(layer, named, name: name + suffix)
  }

  func emit(_ layer: Layer, inputs indices: [Int]) throws(NodeError) -> ValueRef {
    var refs: [ValueRef] = []
    for i in indices { refs.append(try required(i, "operand \(i)")) }
    return try emit(layer, refs, hints: indices.map { hint($0) })
  }

  /// How many ONNX nodes read this node's output `i`, and whether it is a graph output.
  func isPrivate(_ value: String) -> Bool {
    importer.consumers[value, default: 0] == 1 && !importer.graphOutputs.contains(value)
  }

  /// A movement op on a constant, exact for integers: the op runs on the element positions
  /// (as fp32, exact below 2^24) and the integers are then picked from the positions it chose.
  func foldMovement(_ layer: Layer, _ data: ONNXConstant) throws(NodeError) -> ONNXConstant {
    try GraphImporter.checkShapes(layer, [data.shape])
    var context = ForwardContext.inference
    if data.isFloatingPoint {
      return ONNXConstant(
        layer.forward([Variable(data.floats)], context: &context).value, elementType: data.elementType)
    }
    let positions = Tensor<Float>(shape: data.shape, scalars: (0..<data.count).map { Float($0) })
    let moved = layer.forward([Variable(positions)], context: &context).value
    let ints = data.ints
    return ONNXConstant(shape: moved.shape, ints: moved.scalars.map { ints[Int($0)] }, elementType: data.elementType)
  }

  /// A movement op: folded exactly when its data input is constant, a layer otherwise.
  func movement(_ layer: Layer, _ data: ValueRef) throws(NodeError) -> ValueRef {
    if let c = data.constant { return .constant(try foldMovement(layer, c)) }
    return try emit(layer, [data], hints: [hint(0)])
  }
}

extension NodeConversion {
  /// An integer list given as an attribute (older opsets) or as a constant input (newer ones).
  func ints(attribute: String, input: Int, _ what: String) throws(NodeError) -> [Int]? {
    if let v = try attributes.ints(attribute) { return v }
    return try constant(input, what)?.ints
  }

  /// A float given as a constant input (newer opsets) or an attribute (older ones).
  func float(input: Int, attribute: String, _ fallback: Float) throws(NodeError) -> Float {
    if let c = try constant(input, attribute), let v = c.floats.scalars.first { return v }
    return try attributes.float(attribute, fallback)
  }
}
