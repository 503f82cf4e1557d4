import Foundation
import LatheTensor
import SwiftProtobuf

@testable import LatheONNX

/// Small ONNX models built in code with the generated protobuf types, as an exporter would.
enum ONNXBuild {
  /// The last node's first output for `inputs`, through the importer: a graph of `nodes` and
  /// `initializers` whose inputs take the given tensors' shapes.
  static func run(
    _ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto] = [], inputs: [(String, Tensor<Float>)],
    opset: Int
  ) throws -> Tensor<Float> {
    let m = model(
      nodes: nodes, initializers: initializers, inputs: inputs.map { value($0.0, $0.1.shape) },
      outputs: [nodes.last!.output[0]], opset: opset)
    return try ONNXImporter.load(data: data(m)).run(inputs.map(\.1))[0]
  }

  static func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.floatData = values
    return t
  }

  static func rawTensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    return t
  }

  static func int64s(_ name: String, _ values: [Int]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = [Int64(values.count)]
    t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    t.int64Data = values.map { Int64($0) }
    return t
  }

  static func node(
    _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", _ attributes: [Onnx_AttributeProto] = []
  ) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = op
    n.input = inputs
    n.output = outputs
    n.name = name
    n.attribute = attributes
    return n
  }

  /// A graph-valued attribute (an If's branch, a Loop's body) of `nodes`, giving `outputs`.
  static func graphAttribute(
    _ name: String, _ nodes: [Onnx_NodeProto], outputs: [String], initializers: [Onnx_TensorProto] = []
  ) -> Onnx_AttributeProto {
    var g = Onnx_GraphProto()
    g.name = name
    g.node = nodes
    g.initializer = initializers
    g.output = outputs.map { value($0, []) }
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .graph
    a.g = g
    return a
  }

  static func value(_ name: String, _ dims: [Int?]) -> Onnx_ValueInfoProto {
    var v = Onnx_ValueInfoProto()
    v.name = name
    var t = Onnx_TypeProto.Tensor()
    t.elemType = 1
    var s = Onnx_TensorShapeProto()
    s.dim = dims.map { d in
      var dim = Onnx_TensorShapeProto.Dimension()
      if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
      return dim
    }
    t.shape = s
    v.type.tensorType = t
    return v
  }

  static func model(
    nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto], inputs: [Onnx_ValueInfoProto],
    outputs: [String], opset: Int = 13
  ) -> Onnx_ModelProto {
    var g = Onnx_GraphProto()
    g.name = "test"
    g.node = nodes
    g.initializer = initializers
    g.input = inputs
    g.output = outputs.map { value($0, []) }
    var m = Onnx_ModelProto()
    m.irVersion = 7
    m.producerName = "tests"
    var o = Onnx_OperatorSetIdProto()
    o.version = Int64(opset)
    m.opsetImport = [o]
    m.graph = g
    return m
  }

  static func data(_ model: Onnx_ModelProto) -> Data { try! model.serializedData() }
}
