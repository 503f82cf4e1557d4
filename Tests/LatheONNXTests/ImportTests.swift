import Foundation
import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

final class ImportTests: XCTestCase {
  /// Gemm(transB=1) + Relu: the Gemm becomes a native Linear, outputs as computed by hand.
  func testGemmBecomesLinear() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Gemm", ["x", "W", "b"], ["h"], name: "fc", [Attr.int("transB", 1)]),
        ONNXBuild.node("Relu", ["h"], ["y"], name: "act"),
      ],
      initializers: [
        ONNXBuild.tensor("W", [2, 3], [1, 0, -1, 0.5, 0.5, 0.5]), ONNXBuild.rawTensor("b", [2], [0.5, -10]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"])
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let model = try graph.model()
    XCTAssertTrue(model.nodes.contains { $0.layer is Linear })
    XCTAssertEqual(model.inputShape, [3])
    XCTAssertEqual(model.classCount, 2)
    let y = model.predict(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
    // Row 1: [1-3+0.5, 3-10] -> relu -> [0, 0]; row 2: [4-6+0.5, 7.5-10] -> [0, 0] ... use row with positives
    XCTAssertEqual(y.shape, [2, 2])
    let z = model.predict(Tensor(shape: [1, 3], scalars: [3, 20, 1]))
    assertClose(z.scalars, [2.5, 2.0], accuracy: 1e-6)
  }

  /// A constant is dropped once the last node reading it (directly or from a subgraph) is
  /// converted: a MatMul weight transposed into a Linear is not held twice for the rest of the
  /// import. One read by two nodes stays until the second, and a graph output stays.
  func testImporterLetsGoOfConstantsNoNodeReadsAnyMore() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("MatMul", ["x", "W"], ["h"], name: "mm1"),
        ONNXBuild.node("Relu", ["h"], ["r"], name: "relu"),
        ONNXBuild.node("MatMul", ["r", "V"], ["p"], name: "mm2"),
        ONNXBuild.node("MatMul", ["p", "V"], ["y"], name: "mm3"),
      ],
      initializers: [
        ONNXBuild.tensor("W", [3, 2], [1, -1, 2, 0, 0, 3]), ONNXBuild.tensor("V", [2, 2], [1, 2, 3, 4]),
        ONNXBuild.tensor("K", [2], [5, 6]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y", "K"])
    let importer = GraphImporter(file: "drop.onnx", decoder: TensorDecoder(), opset: 13, options: .init())
    for tensor in m.graph.initializer { try importer.decodeInitializer(tensor) }
    var graph = m
    graph.graph.initializer = []
    let imported = try importer.importGraph(graph)
    XCTAssertNil(importer.values["W"])
    XCTAssertNil(importer.values["V"])
    XCTAssertNotNil(importer.values["K"]?.constant)
    // Same result as before: x·W, relu, ·V twice.
    let x = Tensor<Float>(shape: [1, 3], scalars: [1, 2, 3])
    // x·W = [1 + 4 + 0, -1 + 0 + 9] = [5, 8]; ·V = [5 + 24, 10 + 32] = [29, 42]; ·V = [155, 226].
    XCTAssertEqual(imported.run([x])[0].scalars, [155, 226])
  }

  /// MatMul then Add of a vector: one Linear with the vector as bias (PyTorch's older export).
  func testMatMulAddFusesIntoLinear() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("MatMul", ["x", "W"], ["p"], name: "mm"),
        ONNXBuild.node("Add", ["p", "b"], ["y"], name: "bias"),
      ],
      initializers: [ONNXBuild.tensor("W", [2, 2], [1, 2, 3, 4]), ONNXBuild.tensor("b", [2], [10, 20])],
      inputs: [ONNXBuild.value("x", [nil, 2])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertEqual(model.nodes.count, 1)
    let linear = try XCTUnwrap(model.nodes[0].layer as? Linear)
    XCTAssertEqual(linear.weight.value.scalars, [1, 3, 2, 4])
    XCTAssertEqual(model.predict(Tensor(shape: [1, 2], scalars: [1, 1])).scalars, [14, 26])
  }

  /// Conv (with pads), MaxPool, then PyTorch's flatten pattern Shape/Gather/Unsqueeze/Concat/Reshape,
  /// which folds at load and keeps working for any batch size.
  func testConvPoolAndFoldedFlatten() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "Conv", ["x", "W"], ["c"], name: "conv",
          [Attr.ints("pads", [1, 1, 1, 1]), Attr.ints("kernel_shape", [3, 3])]),
        ONNXBuild.node(
          "MaxPool", ["c"], ["p"], name: "pool", [Attr.ints("kernel_shape", [2, 2]), Attr.ints("strides", [2, 2])]),
        ONNXBuild.node("Shape", ["p"], ["s"]),
        ONNXBuild.node("Gather", ["s", "zero"], ["n"], [Attr.int("axis", 0)]),
        ONNXBuild.node("Unsqueeze", ["n", "axes"], ["n1"]),
        ONNXBuild.node("Concat", ["n1", "minus1"], ["shape"], [Attr.int("axis", 0)]),
        ONNXBuild.node("Reshape", ["p", "shape"], ["y"], name: "flatten"),
      ],
      initializers: [
        ONNXBuild.tensor("W", [1, 1, 3, 3], [0, 0, 0, 0, 1, 0, 0, 0, 0]), ONNXBuild.int64s("minus1", [-1]),
        ONNXBuild.int64s("axes", [0]),
        {
          var t = ONNXBuild.int64s("zero", [0])
          t.dims = []
          return t
        }(),
      ],
      inputs: [ONNXBuild.value("x", [nil, 1, 4, 4])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertTrue(model.nodes.contains { $0.layer is Conv2d })
    XCTAssertTrue(model.nodes.contains { $0.layer is Pool2d })
    XCTAssertFalse(model.nodes.contains { $0.layer.op == "onnx.Constant" }, "shape arithmetic should fold")
    let x = Tensor<Float>(shape: [3, 1, 4, 4], scalars: (0..<48).map { Float($0) })
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [3, 4])
    XCTAssertEqual(Array(y.scalars.prefix(4)), [5, 7, 13, 15])
  }

  /// Ops Lathe adds itself, checked against values computed by hand.
  func testElementwiseAndMovementOps() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Sub", ["x", "c"], ["a"]),
        ONNXBuild.node("Mul", ["a", "c"], ["b"]),
        ONNXBuild.node("Clip", ["b", "lo", "hi"], ["d"]),
        ONNXBuild.node("Transpose", ["d"], ["e"], [Attr.ints("perm", [1, 0])]),
        ONNXBuild.node("Slice", ["e", "st", "en", "ax", "sp"], ["f"]),
        ONNXBuild.node("Pad", ["f", "pads"], ["y"], [Attr.string("mode", "constant")]),
      ],
      initializers: [
        ONNXBuild.tensor("c", [], [2]), ONNXBuild.tensor("lo", [], [-4]), ONNXBuild.tensor("hi", [], [4]),
        ONNXBuild.int64s("st", [2]), ONNXBuild.int64s("en", [-100]), ONNXBuild.int64s("ax", [0]),
        ONNXBuild.int64s("sp", [-2]), ONNXBuild.int64s("pads", [0, 1, 0, 0]),
      ],
      inputs: [ONNXBuild.value("x", [2, 3])], outputs: ["y"])
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    // x = [[0,1,2],[3,4,5]] -> (x-2)*2 = [[-4,-2,0],[2,4,6]] -> clip = [[-4,-2,0],[2,4,4]]
    // transpose -> [[-4,2],[-2,4],[0,4]] -> rows 2,0 -> [[0,4],[-4,2]] -> pad left by 1 on axis 1
    let y = graph.run([Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])])[0]
    XCTAssertEqual(y.shape, [2, 3])
    XCTAssertEqual(y.scalars, [0, 0, 4, 0, -4, 2])
  }

  /// Old-opset forms (attributes instead of inputs) and the opset < 13 Softmax.
  func testOpset9AttributeForms() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Unsqueeze", ["x"], ["u"], [Attr.ints("axes", [0])]),
        ONNXBuild.node("Squeeze", ["u"], ["s"], [Attr.ints("axes", [0])]),
        ONNXBuild.node("Softmax", ["s"], ["y"], [Attr.int("axis", 1)]),
      ],
      initializers: [], inputs: [ONNXBuild.value("x", [1, 2, 2])], outputs: ["y"], opset: 9)
    let y = try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor(shape: [1, 2, 2], scalars: [0, 0, 0, 0])])[0]
    XCTAssertEqual(y.shape, [1, 2, 2])
    assertClose(y.scalars, [0.25, 0.25, 0.25, 0.25], accuracy: 1e-6)
  }

  /// A QDQ model (int8 weight dequantized, activations quantized and dequantized) reads and runs.
  func testReadsQDQModel() throws {
    var w = Onnx_TensorProto()
    w.name = "Wq"
    w.dims = [2, 2]
    w.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
    w.rawData = Data([UInt8(bitPattern: 10), UInt8(bitPattern: -20), 0, 5])
    var z = Onnx_TensorProto()
    z.name = "xz"
    z.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
    z.rawData = Data([128])
    var wz = Onnx_TensorProto()
    wz.name = "wz"
    wz.dims = [2]
    wz.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
    wz.rawData = Data([0, 0])
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("DequantizeLinear", ["Wq", "ws", "wz"], ["W"], [Attr.int("axis", 0)]),
        ONNXBuild.node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        ONNXBuild.node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
        ONNXBuild.node("Gemm", ["xd", "W"], ["y"], [Attr.int("transB", 1)]),
      ],
      initializers: [ONNXBuild.tensor("ws", [2], [0.1, 0.2]), ONNXBuild.tensor("xs", [], [0.5]), z, w, wz],
      inputs: [ONNXBuild.value("x", [nil, 2])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    // The QDQ pattern runs as the int8 layer it describes (QDQImportTests has the details).
    let linear = try XCTUnwrap(model.nodes.compactMap { $0.layer as? QuantizedLinear }.first)
    XCTAssertEqual(linear.weights.values, [10, -20, 0, 5])
    assertClose(try XCTUnwrap(linear.effectiveWeight).scalars, [1, -2, 0, 1], accuracy: 1e-6)
    // x = [1.2, -0.3] quantizes to [1.0, -0.5] at scale 0.5.
    assertClose(model.predict(Tensor(shape: [1, 2], scalars: [1.2, -0.3])).scalars, [2, -0.5], accuracy: 1e-6)
  }

  /// Initializers stored in an external data file beside the model.
  func testExternalData() throws {
    let url = try externalDataModel(offset: "16", length: "8")
    defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    let y = try ONNXImporter.load(contentsOf: url).run([Tensor(shape: [1, 2], scalars: [1, 1])])[0]
    XCTAssertEqual(y.scalars, [2, 3])
  }

  /// Offsets and lengths past the data file, including ones whose sum overflows Int, are refused
  /// with the tensor's name (the sum once trapped).
  func testExternalDataOutOfRangeIsRefused() throws {
    let huge = String(Int.max)
    for (offset, length) in [("16", "9"), ("25", "0"), ("-1", "8"), ("16", huge), (huge, "8"), (huge, huge)] {
      let url = try externalDataModel(offset: offset, length: length)
      defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
      XCTAssertThrowsError(try ONNXImporter.load(contentsOf: url), "offset \(offset) length \(length)") { error in
        XCTAssertTrue("\(error)".contains("tensor \"s\": external data offset"), "\(error)")
      }
    }
  }

  /// `m.onnx` multiplying its input by a 2-float initializer `s` kept in `weights.bin` (16 bytes
  /// of padding, then 2 and 3) at the given offset and length, in a fresh folder.
  private func externalDataModel(offset: String, length: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-ext-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var bytes = Data(count: 16)
    bytes.append(contentsOf: [Float](arrayLiteral: 2, 3).withUnsafeBufferPointer { Data(buffer: $0) })
    try bytes.write(to: folder.appendingPathComponent("weights.bin"))
    var w = Onnx_TensorProto()
    w.name = "s"
    w.dims = [2]
    w.dataType = 1
    w.dataLocation = .external
    w.externalData = [("location", "weights.bin"), ("offset", offset), ("length", length)].map { k, v in
      var e = Onnx_StringStringEntryProto()
      e.key = k
      e.value = v
      return e
    }
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Mul", ["x", "s"], ["y"])], initializers: [w], inputs: [ONNXBuild.value("x", [1, 2])],
      outputs: ["y"])
    let url = folder.appendingPathComponent("m.onnx")
    try ONNXBuild.data(m).write(to: url)
    return url
  }
}

func assertClose(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.count, b.count, file: file, line: line)
  for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
