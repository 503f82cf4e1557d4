import Foundation
import LatheTensor

/// Accumulates the nodes and initializers of an ONNX graph being written, with unique names.
final class GraphBuilder {
  /// The ai.onnx opset the graph is written for.
  let opset: Int
  var nodes: [Onnx_NodeProto] = []
  var initializers: [Onnx_TensorProto] = []
  private var used: Set<String> = []
  /// Node names are a namespace of their own in ONNX.
  private var usedNodeNames: Set<String> = []

  init(opset: Int) { self.opset = opset }

  func fresh(_ base: String) -> String {
    var name = base
    var k = 2
    while used.contains(name) {
      name = "\(base)_\(k)"
      k += 1
    }
    used.insert(name)
    return name
  }

  func reserve(_ name: String) { used.insert(name) }

  @discardableResult
  func initializer(_ proto: Onnx_TensorProto) -> String {
    var p = proto
    p.name = fresh(proto.name)
    initializers.append(p)
    return p.name
  }

  func floats(_ name: String, _ tensor: Tensor<Float>) -> String { initializer(TensorEncoder.proto(name, tensor)) }

  func int64s(_ name: String, _ values: [Int]) -> String {
    initializer(TensorEncoder.proto(name, shape: [values.count], int64: values))
  }

  /// Adds a node and returns its (first) output's name.
  @discardableResult
  func node(
    _ op: String, _ inputs: [String], output: String? = nil, name: String, _ attributes: [Onnx_AttributeProto] = []
  ) -> String {
    var n = Onnx_NodeProto()
    n.opType = op
    var nodeName = name
    var k = 2
    while usedNodeNames.contains(nodeName) {
      nodeName = "\(name)_\(k)"
      k += 1
    }
    usedNodeNames.insert(nodeName)
    n.name = nodeName
    n.input = inputs
    let out = output ?? fresh(name + "_" + op)
    n.output = [out]
    n.attribute = attributes
    nodes.append(n)
    return out
  }
}

/// AttributeProto constructors.
enum Attr {
  static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(v)
    return a
  }

  static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = v.map { Int64($0) }
    return a
  }

  static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = v
    return a
  }

  static func string(_ name: String, _ v: String) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .string
    a.s = Data(v.utf8)
    return a
  }

  static func floats(_ name: String, _ v: [Float]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .floats
    a.floats = v
    return a
  }

  static func strings(_ name: String, _ v: [String]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .strings
    a.strings = v.map { Data($0.utf8) }
    return a
  }

  static func tensor(_ name: String, _ t: Onnx_TensorProto) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .tensor
    a.t = t
    return a
  }
}
