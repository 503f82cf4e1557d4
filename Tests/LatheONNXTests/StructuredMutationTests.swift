import Foundation
import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

/// Mutants made at the protobuf level: most byte-level mutants no longer parse, so these edit
/// the decoded graph instead (dims and attributes set to 0, -1 or 2^40, inputs renamed or left
/// dangling, nodes reordered, operators swapped) and must each open with an error or run.
final class StructuredMutationTests: XCTestCase {
  func testStructuredMutantsNeverCrash() throws {
    let sources = [try Self.cnnExport(quantized: false), try Self.cnnExport(quantized: true), Self.movementGraph()]
    var generator = SeededGenerator(seed: 23)
    var opened = 0
    let mutants = 1500
    for k in 0..<mutants {
      var proto = sources[k % sources.count]
      for _ in 0...(generator.next() % 3) { Self.mutate(&proto, &generator) }
      if DamagedONNXTests.openAndRun(try proto.serializedData()) { opened += 1 }
    }
    XCTAssertGreaterThan(opened, 0)
    XCTAssertLessThan(opened, mutants)
  }

  func testSourcesOpenAndRun() throws {
    for proto in [try Self.cnnExport(quantized: false), try Self.cnnExport(quantized: true), Self.movementGraph()] {
      let model = try ONNXImporter.load(data: proto.serializedData(), path: "source.onnx").model()
      XCTAssertEqual(model.predict(Tensor(repeating: 0.5, shape: [2] + model.inputShape)).shape.first, 2)
    }
  }

  // MARK: - Valid sources

  /// A small CNN exported by Lathe, its classifier int8 (QuantizeLinear/DequantizeLinear) or not.
  static func cnnExport(quantized: Bool) throws -> Onnx_ModelProto {
    var g = SeededGenerator(seed: 3)
    let model = try Model(
      architecture: "fuzz-cnn", inputShape: [1, 6, 6], classCount: 3,
      sequence: [
        ("conv", Conv2d(inChannels: 1, outChannels: 2, kernel: 3, padding: 1, generator: &g)),
        ("bn", BatchNorm(channels: 2)), ("relu", Function(.relu)),
        ("pool", Pool2d(.average, geometry: WindowGeometry(kernel: [2, 2], stride: [2, 2]))),
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc", Linear(inputs: 18, outputs: 3, generator: &g)), ("softmax", Function(.logSoftmax)),
      ])
    if quantized, let fc = model.nodes.first(where: { $0.name == "fc" })?.layer as? Linear {
      let weights = QuantizedWeights(quantizing: fc.weight.value, granularity: .perChannel)
      let layer = QuantizedLinear(
        weights: weights, bias: fc.bias?.value, input: .fixed(.unsigned(low: -4, high: 4, symmetric: false)),
        relu: false)
      model.replaceLayer(named: "fc", with: layer)
    }
    return try ONNXExporter.proto(model)
  }

  /// A graph of the movement and arithmetic operators, their shapes and axes given as int64
  /// initializers (so the mutations reach them): x [N, 2, 4, 4] to scores [N, 3].
  static func movementGraph() -> Onnx_ModelProto {
    typealias B = ONNXBuild
    let nodes = [
      B.node("LRN", ["x"], ["lrn"], name: "lrn", [Attr.int("size", 3)]),
      B.node("Pad", ["lrn", "pads"], ["padded"], name: "pad", [Attr.string("mode", "reflect")]),
      B.node("Slice", ["padded", "starts", "ends", "axes"], ["sliced"], name: "slice"),
      B.node("Mul", ["sliced", "scale"], ["scaled"], name: "mul"),
      B.node("Transpose", ["scaled"], ["moved"], name: "transpose", [Attr.ints("perm", [0, 2, 3, 1])]),
      B.node("Reshape", ["moved", "flat"], ["rows"], name: "reshape"),
      B.node("Unsqueeze", ["rows", "one"], ["lifted"], name: "unsqueeze"),
      B.node("Squeeze", ["lifted", "one"], ["dropped"], name: "squeeze"),
      B.node("Gather", ["dropped", "picks"], ["picked"], name: "gather", [Attr.int("axis", 1)]),
      B.node("Concat", ["picked", "picked"], ["joined"], name: "concat", [Attr.int("axis", 1)]),
      B.node("MatMul", ["joined", "W"], ["scores"], name: "matmul"),
      B.node("ReduceMean", ["scores"], ["mean"], name: "mean", [Attr.ints("axes", [1])]),
      B.node("Sub", ["scores", "mean"], ["centered"], name: "sub"),
      B.node("Softmax", ["centered"], ["y"], name: "softmax", [Attr.int("axis", 1)]),
    ]
    let initializers = [
      B.int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1]), B.int64s("starts", [1, 1]), B.int64s("ends", [5, 5]),
      B.int64s("axes", [2, 3]), B.tensor("scale", [1, 2, 1, 1], [0.5, 2]), B.int64s("flat", [0, -1]),
      B.int64s("one", [1]), B.int64s("picks", Array(0..<16)),
      B.tensor("W", [32, 3], (0..<96).map { Float($0 % 7) / 7 - 0.5 }),
    ]
    return B.model(nodes: nodes, initializers: initializers, inputs: [B.value("x", [nil, 2, 4, 4])], outputs: ["y"])
  }

  // MARK: - Mutations

  /// Integers that break shape arithmetic: zero, negatives, sizes past any tensor, Int64's ends.
  static func extreme(_ g: inout SeededGenerator) -> Int64 {
    let values: [Int64] = [0, 1, 2, 3, -1, -2, -7, 255, 1 << 20, 1 << 31, 1 << 40, .max, .min, .max - 1]
    return g.next() % 4 == 0 ? Int64(g.next() % 200) - 100 : values[Int(g.next() % UInt64(values.count))]
  }

  static func pick(_ count: Int, _ g: inout SeededGenerator) -> Int? {
    count == 0 ? nil : Int(g.next() % UInt64(count))
  }

  /// One edit to a random field of the graph.
  static func mutate(_ proto: inout Onnx_ModelProto, _ g: inout SeededGenerator) {
    switch g.next() % 9 {
    case 0:  // A graph input dimension.
      guard let i = pick(proto.graph.input.count, &g),
        let d = pick(proto.graph.input[i].type.tensorType.shape.dim.count, &g)
      else { return }
      proto.graph.input[i].type.tensorType.shape.dim[d].dimValue = extreme(&g)
    case 1:  // An initializer's dims (its data then disagrees) or int64 values (shapes, axes).
      guard let i = pick(proto.graph.initializer.count, &g) else { return }
      if !proto.graph.initializer[i].int64Data.isEmpty, g.next() % 2 == 0 {
        let k = pick(proto.graph.initializer[i].int64Data.count, &g)!
        proto.graph.initializer[i].int64Data[k] = extreme(&g)
      } else if let d = pick(proto.graph.initializer[i].dims.count, &g) {
        proto.graph.initializer[i].dims[d] = extreme(&g)
      } else {
        proto.graph.initializer[i].dims.append(extreme(&g))
      }
    case 2: mutateAttribute(&proto, &g)
    case 3:  // A node input renamed: to another value, a dangling name, or nothing.
      let names = proto.graph.node.flatMap(\.output) + proto.graph.initializer.map(\.name) + ["dangling", ""]
      guard let n = pick(proto.graph.node.count, &g), let k = pick(proto.graph.node[n].input.count, &g) else { return }
      proto.graph.node[n].input[k] = names[pick(names.count, &g)!]
    case 4:  // Two nodes swapped: a node then reads a value computed after it.
      guard let a = pick(proto.graph.node.count, &g), let b = pick(proto.graph.node.count, &g) else { return }
      proto.graph.node.swapAt(a, b)
    case 5:  // Another operator with the same inputs and attributes.
      let ops = ONNXConverters.supported.sorted()
      guard let n = pick(proto.graph.node.count, &g) else { return }
      proto.graph.node[n].opType = ops[pick(ops.count, &g)!]
    case 6:  // An input or attribute dropped.
      guard let n = pick(proto.graph.node.count, &g) else { return }
      if g.next() % 2 == 0, let k = pick(proto.graph.node[n].input.count, &g) {
        proto.graph.node[n].input.remove(at: k)
      } else if let k = pick(proto.graph.node[n].attribute.count, &g) {
        proto.graph.node[n].attribute.remove(at: k)
      }
    case 7:  // A node's output renamed to a value that already exists (a cycle or a clash).
      let names = proto.graph.node.flatMap(\.input) + ["y", "output"]
      guard let n = pick(proto.graph.node.count, &g), let k = pick(proto.graph.node[n].output.count, &g) else { return }
      proto.graph.node[n].output[k] = names[pick(names.count, &g)!]
    default:  // An initializer's element type.
      guard let i = pick(proto.graph.initializer.count, &g) else { return }
      proto.graph.initializer[i].dataType = Int32(g.next() % 24)
    }
  }

  static func mutateAttribute(_ proto: inout Onnx_ModelProto, _ g: inout SeededGenerator) {
    guard let n = pick(proto.graph.node.count, &g) else { return }
    guard let k = pick(proto.graph.node[n].attribute.count, &g) else {
      // No attributes: add one every operator might read.
      let names = ["axis", "axes", "perm", "pads", "strides", "dilations", "group", "kernel_shape", "size"]
      var a = Onnx_AttributeProto()
      a.name = names[pick(names.count, &g)!]
      a.type = .int
      a.i = extreme(&g)
      proto.graph.node[n].attribute.append(a)
      return
    }
    var a = proto.graph.node[n].attribute[k]
    switch a.type {
    case .ints:
      if let i = pick(a.ints.count, &g), g.next() % 3 != 0 {
        a.ints[i] = extreme(&g)
      } else {
        a.ints.append(extreme(&g))
      }
    case .float:
      let values: [Float] = [0, -1, .nan, .infinity, -.infinity, 1e30, 1e-30]
      a.f = values[pick(values.count, &g)!]
    case .string: a.s = Data(["", "SAME_UPPER", "VALID", "edge", "wrap", "constant", "tanh"][pick(7, &g)!].utf8)
    default:
      a.type = .int
      a.i = extreme(&g)
    }
    proto.graph.node[n].attribute[k] = a
  }
}
