import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// A transformer's projections, MatMul of [batch, sequence, hidden] by a constant [hidden, out]
/// then Add of a constant vector, import as one Linear with a bias (so compression finds the
/// weight), and Linear layers over rank-3 input export as MatMul and Add (Gemm is 2-D only).
/// Expected values are computed here from the inputs.
final class SequenceLinearTests: XCTestCase {
  let weights: [Float] = (0..<32).map { Float(($0 * 7) % 11) / 10 - 0.5 }
  let bias: [Float] = [0.5, -1, 0.25, 2]

  /// x [?, ?, 8] · W [8, 4] + b, b written as `biasShape`.
  func projection(biasShape: [Int] = [4]) -> Onnx_ModelProto {
    var x = ONNXBuild.value("x", [nil, nil, 8])
    x.type.tensorType.shape.dim[1].dimParam = "sequence"
    return ONNXBuild.model(
      nodes: [
        ONNXBuild.node("MatMul", ["x", "W"], ["p"], name: "proj"),
        ONNXBuild.node("Add", ["p", "b"], ["y"], name: "proj_bias"),
      ],
      initializers: [ONNXBuild.tensor("W", [8, 4], weights), ONNXBuild.tensor("b", biasShape, bias)],
      inputs: [x], outputs: ["y"], opset: 17)
  }

  /// y[n, s, o] = b[o] + Σ_k x[n, s, k]·W[k, o], by loops.
  func expected(_ x: Tensor<Float>) -> Tensor<Float> {
    let rows = x.count / 8
    let xs = x.scalars
    var y = [Float](repeating: 0, count: rows * 4)
    for r in 0..<rows {
      for o in 0..<4 {
        var total = bias[o]
        for k in 0..<8 { total += xs[r * 8 + k] * weights[k * 4 + o] }
        y[r * 4 + o] = total
      }
    }
    return Tensor(shape: Array(x.shape.dropLast()) + [4], scalars: y)
  }

  func testMatMulAddImportsAsOneLinearWithBias() throws {
    for biasShape in [[4], [1, 1, 4]] {
      let graph = try ONNXImporter.load(data: ONNXBuild.data(projection(biasShape: biasShape)))
      let model = try graph.model()
      let layers = model.nodes.filter { !($0.layer is ONNXConstantLayer) }
      XCTAssertEqual(layers.map(\.layer.op), ["linear"], "bias \(biasShape)")
      XCTAssertEqual(model.namedParameters.map(\.name), ["proj.weight", "proj.bias"], "bias \(biasShape)")
      XCTAssertEqual(model.parameter(named: "proj.weight")?.shape, [4, 8])
      for (batch, sequence) in [(2, 3), (1, 7)] {
        var g = SeededGenerator(seed: UInt64(sequence))
        let x = Tensor<Float>.uniform([batch, sequence, 8], low: -1, high: 1, generator: &g)
        let y = graph.run([x])[0]
        XCTAssertEqual(y.shape, [batch, sequence, 4])
        XCTAssertLessThan(y.maxAbsDifference(expected(x)), 1e-5, "sequence \(sequence), bias \(biasShape)")
        XCTAssertLessThan(model.predict(x).maxAbsDifference(expected(x)), 1e-5, "sequence \(sequence)")
      }
    }
  }

  /// The imported Linear keeps working after a save to safetensors and a load, at a new length.
  func testImportedSequenceLinearSavesAndLoads() throws {
    let model = try ONNXImporter.load(data: ONNXBuild.data(projection())).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-seq-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    var g = SeededGenerator(seed: 9)
    let x = Tensor<Float>.uniform([2, 5, 8], low: -1, high: 1, generator: &g)
    XCTAssertLessThan(back.predict(x).maxAbsDifference(expected(x)), 1e-5)
  }

  /// A bias of higher rank than the product would broadcast it up: it stays an Add.
  func testBiasOfHigherRankIsNotFolded() throws {
    var x = ONNXBuild.value("x", [nil, 8])
    x.type.tensorType.shape.dim[0].dimParam = "N"
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("MatMul", ["x", "W"], ["p"], name: "proj"), ONNXBuild.node("Add", ["p", "b"], ["y"])],
      initializers: [ONNXBuild.tensor("W", [8, 4], weights), ONNXBuild.tensor("b", [1, 1, 4], bias)],
      inputs: [x], outputs: ["y"], opset: 17)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    XCTAssertTrue(graph.nodes.contains { ($0.layer as? Linear)?.bias == nil })
    let input = Tensor<Float>(shape: [3, 8], scalars: (0..<24).map { Float($0) / 24 })
    let y = graph.run([input])[0]
    XCTAssertEqual(y.shape, [1, 3, 4])
    XCTAssertLessThan(y.maxAbsDifference(expected(input.reshaped([1, 3, 8]))), 1e-5)
  }

  /// Two run-time operands, and a batch of constant matrices, stay MatMul.
  func testRunTimeAndBatchedWeightsStayMatMul() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("MatMul", ["x", "W"], ["p"]), ONNXBuild.node("MatMul", ["p", "x2"], ["y"])],
      initializers: [ONNXBuild.tensor("W", [2, 8, 4], weights + weights)],
      inputs: [ONNXBuild.value("x", [2, 3, 8]), ONNXBuild.value("x2", [2, 4, 3])], outputs: ["y"], opset: 17)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    XCTAssertFalse(graph.nodes.contains { $0.layer is Linear })
    XCTAssertEqual(graph.nodes.filter { $0.layer.op == "onnx.MatMul" }.count, 2)
  }

  /// [batch, 5, 8] through fc1 (8 -> 6) and fc2 (6 -> 4) over the last axis, then a head.
  func sequenceModel() throws -> Model {
    var g = SeededGenerator(seed: 21)
    let layers = [
      Linear(inputs: 8, outputs: 6, generator: &g), Linear(inputs: 6, outputs: 4, generator: &g),
      Linear(inputs: 20, outputs: 3, generator: &g),
    ]
    for layer in layers { layer.bias!.value = .normal(layer.bias!.shape, std: 0.2, generator: &g) }
    return try Model(
      architecture: "sequence", inputShape: [5, 8], classCount: 3,
      sequence: [
        ("fc1", layers[0]), ("gelu", Function(.gelu)), ("fc2", layers[1]),
        ("flatten", Function(.flatten(startAxis: 1))), ("head", layers[2]),
      ])
  }

  func input(_ batch: Int) -> Tensor<Float> {
    var g = SeededGenerator(seed: 22)
    return .uniform([batch, 5, 8], low: -1, high: 2, generator: &g)
  }

  func testRankThreeLinearExportsAsMatMulAddAndImportsBack() throws {
    let model = try sequenceModel()
    let proto = try ONNXExporter.proto(model)
    let ops = proto.graph.node.map { "\($0.name):\($0.opType)" }
    XCTAssertFalse(ops.contains { $0.hasPrefix("fc1") && $0.hasSuffix("Gemm") }, "\(ops)")
    XCTAssertTrue(ops.contains("fc1:MatMul") && ops.contains("fc2:MatMul"), "\(ops)")
    XCTAssertTrue(ops.contains("head:Gemm"), "a matrix input keeps Gemm: \(ops)")
    let back = try ONNXImporter.load(data: proto.serializedData()).model()
    XCTAssertEqual(back.nodes.filter { $0.layer is Linear }.count, 3)
    XCTAssertNotNil(back.parameter(named: "fc1.bias"), "the Add folds back into fc1")
    XCTAssertLessThan(back.predict(input(3)).maxAbsDifference(model.predict(input(3))), 1e-5)
  }

  /// Int8 rank-3 layers (static and dynamic activations) as QDQ MatMul: the levels transposed
  /// with their scales on axis 1; static ones read back close to what the int8 engine computes
  /// (the importer does not read DynamicQuantizeLinear's run-time scale into DequantizeLinear).
  func testInt8RankThreeLinearExportsAndImportsBack() throws {
    for input in [InputQuantization.fixed(.unsigned(low: -1, high: 2, symmetric: false)), .dynamic(symmetric: false)] {
      let model = try sequenceModel()
      let fc1 = try XCTUnwrap(model.nodes.first { $0.name == "fc1" }?.layer as? Linear)
      let weights = QuantizedWeights(quantizing: fc1.weight.value, granularity: .perChannel)
      model.replaceLayer(
        named: "fc1", with: QuantizedLinear(weights: weights, bias: fc1.bias?.value, input: input, relu: false))
      let proto = try ONNXExporter.proto(model)
      let levels = try XCTUnwrap(proto.graph.initializer.first { $0.name == "fc1.weight_quantized" })
      XCTAssertEqual(levels.dims, [8, 6])
      let stored = Array(levels.rawData).map { Int($0) - 128 }
      XCTAssertEqual(stored[1 * 6 + 2], Int(weights.values[2 * 8 + 1]), "level [in 1, out 2] is W[2, 1]")
      let fc1Nodes = proto.graph.node.filter { $0.name.hasPrefix("fc1") }
      XCTAssertEqual(fc1Nodes.last?.opType, "Add", "\(input)")
      XCTAssertTrue(fc1Nodes.contains { $0.opType == "MatMul" } && !fc1Nodes.contains { $0.opType == "Gemm" })
      let dequantize = try XCTUnwrap(fc1Nodes.first { $0.input.first == "fc1.weight_quantized" })
      XCTAssertEqual(dequantize.attribute.first { $0.name == "axis" }?.i, 1)
      guard case .fixed = input else { continue }
      let back = try ONNXImporter.load(data: proto.serializedData()).model()
      XCTAssertLessThan(back.predict(self.input(4)).maxAbsDifference(model.predict(self.input(4))), 2e-3, "\(input)")
    }
  }

  func testSparseRankThreeLinearExportsAndImportsBack() throws {
    let model = try sequenceModel()
    let fc1 = try XCTUnwrap(model.nodes.first { $0.name == "fc1" }?.layer as? Linear)
    fc1.weight.value = fc1.weight.value.mapFloat { abs($0) < 0.6 ? 0 : $0 }
    let sparse = SparseLinear(
      weights: EncodedWeights(fc1.weight.value, codebook: nil, encoding: .csr),
      bias: fc1.bias.map { Parameter($0.value, isTrainable: false) })
    let reference = model.predict(input(2))
    model.replaceLayer(named: "fc1", with: sparse)
    XCTAssertLessThan(model.predict(input(2)).maxAbsDifference(reference), 1e-5)
    let back = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
    XCTAssertLessThan(back.predict(input(2)).maxAbsDifference(reference), 1e-5)
  }
}
