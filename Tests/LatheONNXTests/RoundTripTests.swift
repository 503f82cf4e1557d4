import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// Export then import gives the same model; imported models save as Lathe files and load back.
final class RoundTripTests: XCTestCase {
  func cnn() throws -> Model {
    var g = SeededGenerator(seed: 7)
    let bn = BatchNorm(channels: 4)
    bn.runningMean.value = .uniform([4], low: -0.5, high: 0.5, generator: &g)
    bn.runningVariance.value = .uniform([4], low: 0.5, high: 1.5, generator: &g)
    return try Model(
      architecture: "tiny-cnn", inputShape: [1, 8, 8], classCount: 3,
      sequence: [
        ("conv", Conv2d(inChannels: 1, outChannels: 4, kernel: 3, padding: 1, generator: &g)), ("bn", bn),
        ("relu", Function(.relu)),
        ("pool", Pool2d(.max, geometry: WindowGeometry(kernel: [2, 2], stride: [2, 2]))),
        (
          "avg",
          Pool2d(
            .average, geometry: WindowGeometry(kernel: [2, 2], stride: [2, 2], padding: [1, 1]), countIncludePad: false)
        ),
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc", Linear(inputs: 36, outputs: 3, generator: &g)), ("gelu", Function(.gelu)),
        ("softmax", Function(.logSoftmax)),
      ])
  }

  func input(_ batch: Int) -> Tensor<Float> {
    var g = SeededGenerator(seed: 1)
    return .uniform([batch, 1, 8, 8], low: -1, high: 1, generator: &g)
  }

  func testFP32RoundTrip() throws {
    let model = try cnn()
    let data = try ONNXExporter.data(model)
    let back = try ONNXImporter.load(data: data, path: "cnn.onnx").model()
    XCTAssertEqual(back.inputShape, [1, 8, 8])
    XCTAssertEqual(back.classCount, 3)
    XCTAssertLessThan(back.predict(input(5)).maxAbsDifference(model.predict(input(5))), 1e-5)
    XCTAssertEqual(back.nodes.map(\.layer.op).filter { $0 == "conv2d" || $0 == "linear" }, ["conv2d", "linear"])
  }

  func testPrunedAndInt8Export() throws {
    let model = try cnn()
    let fc = try XCTUnwrap(model.nodes.first { $0.name == "fc" }?.layer as? Linear)
    fc.weight.value = fc.weight.value.mapFloat { abs($0) < 0.2 ? 0 : $0 }
    let pruned = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
    let back = try XCTUnwrap(pruned.nodes.first { $0.name == "fc" }?.layer as? Linear)
    XCTAssertEqual(back.weight.value.scalars.filter { $0 == 0 }.count, fc.weight.value.scalars.filter { $0 == 0 }.count)

    // int8 weights with dynamic activations: written as QDQ, read back, close to the int8 engine.
    let weights = QuantizedWeights(quantizing: fc.weight.value, granularity: .perChannel)
    let q = QuantizedLinear(weights: weights, bias: fc.bias?.value, input: .dynamic(symmetric: false), relu: false)
    model.replaceLayer(named: "fc", with: q)
    let proto = try ONNXExporter.proto(model)
    let ops = proto.graph.node.map(\.opType)
    XCTAssertTrue(ops.contains("DequantizeLinear") && ops.contains("DynamicQuantizeLinear"), "\(ops)")
    // The levels go out as uint8 around zero point 128 (so ONNX Runtime's exact U8U8 kernels
    // run them): each byte is the int8 level plus 128.
    let level = try XCTUnwrap(proto.graph.initializer.first { $0.name == "fc.weight_quantized" })
    let zero = try XCTUnwrap(proto.graph.initializer.first { $0.name == "fc.weight_zero_point" })
    XCTAssertEqual(level.dataType, 2, "uint8")
    XCTAssertEqual(Array(level.rawData).map { Int($0) - 128 }, weights.values.map { Int($0) })
    XCTAssertEqual(Set(zero.rawData), [128])

    // Static activations: QuantizeLinear/DequantizeLinear pairs, int32 bias, imported and compared.
    let fixed = QuantizedLinear(
      weights: weights, bias: fc.bias?.value, input: .fixed(.unsigned(low: -4, high: 4, symmetric: false)), relu: false)
    model.replaceLayer(named: "fc", with: fixed)
    let imported = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
    XCTAssertTrue(imported.nodes.contains { $0.layer is QuantizedLinear }, "QDQ opens as the int8 layer")
    XCTAssertLessThan(imported.predict(input(4)).maxAbsDifference(model.predict(input(4))), 2e-3)
  }

  func testImportedModelSavesAsLatheFile() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Transpose", ["x"], ["t"], [Attr.ints("perm", [0, 2, 1])]),
        ONNXBuild.node("Flatten", ["t"], ["f"], name: "flat"),
        ONNXBuild.node("Mul", ["f", "s"], ["m"], name: "scale"),
        ONNXBuild.node("PRelu", ["m", "slope"], ["p"], name: "prelu"),
        ONNXBuild.node("Gemm", ["p", "W", "b"], ["y"], name: "fc", [Attr.int("transB", 1)]),
      ],
      initializers: [
        ONNXBuild.tensor("s", [6], [1, 2, 3, 4, 5, 6]), ONNXBuild.tensor("slope", [1], [0.1]),
        ONNXBuild.tensor("W", [2, 6], (0..<12).map { Float($0) / 10 }), ONNXBuild.tensor("b", [2], [1, -1]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 2, 3])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    let x = Tensor<Float>(shape: [2, 2, 3], scalars: (0..<12).map { Float($0) - 6 })
    XCTAssertEqual(back.predict(x).scalars, model.predict(x).scalars)
    // and through ONNX again
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(model.predict(x)), 1e-5)
  }

  func testSaveIsAtomicAndOpenerDetectsFormat() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = try cnn()
    let url = folder.appendingPathComponent("model.bin")
    try ModelOpener.save(model, to: url, format: .onnx)
    try ModelOpener.save(model, to: url, format: .onnx)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["model.bin"])
    XCTAssertEqual(try ModelOpener.format(of: url), .onnx)
    XCTAssertLessThan(try ModelOpener.open(url).predict(input(2)).maxAbsDifference(model.predict(input(2))), 1e-5)
  }

  /// The layers for 3-D windows, 1-D transposed convolution, MaxPool indices and training-mode
  /// batch normalisation save as Lathe files, load back, and export to ONNX again.
  func testWindowLayersSaveAndExportAgain() throws {
    var g = SeededGenerator(seed: 31)
    let conv = Tensor<Float>.uniform([2, 1, 2, 2, 2], low: -1, high: 1, generator: &g)
    let transposed = Tensor<Float>.uniform([2, 2, 3], low: -1, high: 1, generator: &g)
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Conv", ["x", "W"], ["c"], name: "conv3d", [Attr.ints("pads", [1, 0, 1, 0, 1, 1])]),
        ONNXBuild.node(
          "MaxPool", ["c"], ["p", "i"], name: "pool",
          [Attr.ints("kernel_shape", [2, 2, 2]), Attr.int("ceil_mode", 1), Attr.ints("strides", [2, 2, 2])]),
        ONNXBuild.node(
          "AveragePool", ["c"], ["a"], name: "avg",
          [
            Attr.ints("kernel_shape", [2, 2, 2]), Attr.int("count_include_pad", 1), Attr.int("ceil_mode", 1),
            Attr.ints("strides", [2, 2, 2]),
          ]),
        ONNXBuild.node("Add", ["p", "i"], ["pi"], name: "indices"),
        ONNXBuild.node("Add", ["pi", "a"], ["s"], name: "join"),
        ONNXBuild.node("ReduceSum", ["s", "axes"], ["sp"], name: "sum", [Attr.int("keepdims", 0)]),
        ONNXBuild.node("ConvTranspose", ["sp", "T"], ["t"], name: "up", [Attr.ints("strides", [2])]),
        ONNXBuild.node(
          "BatchNormalization", ["t", "bs", "bb", "bm", "bv"], ["y"], name: "bn", [Attr.int("training_mode", 1)]),
      ],
      initializers: [
        ONNXBuild.tensor("W", conv.shape, conv.scalars), ONNXBuild.tensor("T", transposed.shape, transposed.scalars),
        ONNXBuild.int64s("axes", [2, 3]), ONNXBuild.tensor("bs", [2], [1, 2]), ONNXBuild.tensor("bb", [2], [0, 1]),
        ONNXBuild.tensor("bm", [2], [0, 0]), ONNXBuild.tensor("bv", [2], [1, 1]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 1, 3, 4, 4])], outputs: ["y"], opset: 15)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertEqual(
      Set(model.nodes.map(\.layer.op)).intersection(["onnx.Conv", "onnx.Pool", "onnx.ConvTranspose"]).count, 3)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    let x = Tensor<Float>.uniform([3, 1, 3, 4, 4], low: -1, high: 1, generator: &g)
    XCTAssertEqual(back.predict(x).scalars, model.predict(x).scalars)
    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 14)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(model.predict(x)), 1e-5)
  }
}
