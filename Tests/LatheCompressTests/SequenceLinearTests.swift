import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// Compression of Linear layers over the last axis of [batch, sequence, features] inputs, as a
/// transformer's projections are: every layer a step puts in a Linear's place computes what it
/// computes on rank-3 input, and the model files round-trip. Expected outputs are the fp32
/// model's (or the pruned fp32 model's), computed here.
final class SequenceLinearTests: XCTestCase {
  /// [batch, 5, 32] through fc1 (32 -> 32), ReLU, fc2 (32 -> 16), then a flatten and a head.
  func sequenceModel() -> Model {
    var g = SeededGenerator(seed: 11)
    let fc1 = Linear(inputs: 32, outputs: 32, generator: &g)
    let fc2 = Linear(inputs: 32, outputs: 16, generator: &g)
    let head = Linear(inputs: 80, outputs: 3, generator: &g)
    for layer in [fc1, fc2, head] { layer.bias!.value = .normal(layer.bias!.shape, std: 0.2, generator: &g) }
    return try! Model(
      architecture: "sequence-mlp", inputShape: [5, 32], classCount: 3,
      sequence: [
        ("fc1", fc1), ("relu1", Function(.relu)), ("fc2", fc2), ("flatten", Function(.flatten(startAxis: 1))),
        ("head", head),
      ])
  }

  func tokens(_ count: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    return Dataset(
      name: "tokens", inputs: .uniform([count, 5, 32], low: -1, high: 1, generator: &g),
      labels: (0..<count).map { $0 % 3 }, classCount: 3)
  }

  var data: DatasetSplit { DatasetSplit(train: tokens(64, seed: 1), test: tokens(8, seed: 2)) }

  /// Largest difference between two models' outputs over the test inputs, relative to the
  /// largest output of `reference`.
  func relativeError(_ model: Model, _ reference: Model) -> Float {
    let x = data.test.inputs
    let (y, r) = (model.predict(x), reference.predict(x))
    XCTAssertEqual(y.shape, r.shape)
    return y.maxAbsDifference(r) / r.scalars.map(abs).max()!
  }

  func layer(_ model: Model, _ name: String) -> Layer? { model.nodes.first { $0.name == name }?.layer }

  func testRankThreeLinearSavesAndLoads() throws {
    let model = sequenceModel()
    XCTAssertEqual(model.outputShapes()["fc2"], [1, 5, 16])
    let url = try temporaryDirectory(self).appendingPathComponent("seq.safetensors")
    try ModelFile.save(model, to: url)
    let loaded = try ModelFile.load(from: url)
    XCTAssertEqual(loaded.predict(data.test.inputs), model.predict(data.test.inputs))
    XCTAssertEqual(loaded.nodes.map(\.layer.op), model.nodes.map(\.layer.op))
  }

  func testInt8StaticAndDynamicQuantization() throws {
    let model = sequenceModel()
    for activations in ["static", "dynamic"] {
      let quantized = try technique(
        "quantize", [("activations", .string(activations)), ("calibration_samples", .int(64))]
      ).applied(to: model, context: context(data))
      XCTAssertTrue(layer(quantized, "fc1") is QuantizedLinear, activations)
      XCTAssertEqual((layer(quantized, "fc1") as? QuantizedLinear)?.relu, true, "the ReLU folds in (\(activations))")
      XCTAssertTrue(layer(quantized, "fc2") is QuantizedLinear, activations)
      XCTAssertLessThan(relativeError(quantized, model), 0.03, activations)
      let url = try temporaryDirectory(self).appendingPathComponent("q.safetensors")
      let loaded = try deployedRoundTrip(quantized, to: url)
      XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs), activations)
    }
  }

  func testWeightOnlyQuantization() throws {
    let model = sequenceModel()
    let quantized = try technique("weight-only", [("bits", .int(8))]).applied(to: model, context: context(data))
    XCTAssertTrue(layer(quantized, "fc1") is WeightOnlyLinear)
    XCTAssertTrue(layer(quantized, "fc2") is WeightOnlyLinear)
    XCTAssertLessThan(relativeError(quantized, model), 0.03)
    let url = try temporaryDirectory(self).appendingPathComponent("w.safetensors")
    let loaded = try deployedRoundTrip(quantized, to: url)
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
  }

  /// Magnitude pruning keeps the layers fp32 (masked); deployment turns the sparse ones into
  /// SparseLinear, which must compute what the pruned fp32 model computes, batch of one included.
  func testMagnitudePruningAndSparseDeployment() throws {
    let model = sequenceModel()
    let pruned = try technique("prune", [("sparsity", .float(0.8))]).applied(to: model, context: context(data))
    let fc1 = try XCTUnwrap(layer(pruned, "fc1") as? Linear)
    XCTAssertEqual(MagnitudePruning.sparsity(of: fc1.weight), 0.8, accuracy: 0.01)
    XCTAssertGreaterThan(relativeError(pruned, model), 1e-3, "pruning 80% should change the outputs")
    let deployed = Deployment.inferenceModel(pruned)
    XCTAssertTrue(layer(deployed, "fc1") is SparseLinear)
    XCTAssertTrue(layer(deployed, "fc2") is SparseLinear)
    XCTAssertLessThan(relativeError(deployed, pruned), 1e-5)
    let one = data.test.inputs.sliced(axis: 0, 0..<1).contiguous()
    XCTAssertLessThan(deployed.predict(one).maxAbsDifference(pruned.predict(one)), 1e-4)
    let url = try temporaryDirectory(self).appendingPathComponent("p.safetensors")
    let loaded = try deployedRoundTrip(pruned, to: url)
    XCTAssertLessThan(relativeError(loaded, pruned), 1e-5)

    // One row after folding ([1, 1, in]) takes the single-example kernels.
    let sparse = try XCTUnwrap(layer(deployed, "fc1") as? SparseLinear)
    for shape in [[1, 1, 32], [2, 3, 4, 32]] {
      var g = SeededGenerator(seed: 3)
      let x = Variable(Tensor<Float>.uniform(shape, low: -1, high: 1, generator: &g))
      var forward = ForwardContext.inference
      let expected = fc1.forward([x], context: &forward).value.mapFloat { max($0, 0) }
      XCTAssertLessThan(sparse.forward([x], context: &forward).value.maxAbsDifference(expected), 1e-5, "\(shape)")
    }
  }

  func testWeightSharingDeploysRankThreeLinears() throws {
    let model = sequenceModel()
    let shared = try technique("weight-sharing", [("bits", .int(4))]).applied(to: model, context: context(data))
    let deployed = Deployment.inferenceModel(shared)
    XCTAssertTrue(layer(deployed, "fc2") is SparseLinear)
    XCTAssertLessThan(relativeError(deployed, shared), 1e-5)
    let url = try temporaryDirectory(self).appendingPathComponent("s.safetensors")
    XCTAssertLessThan(relativeError(try deployedRoundTrip(shared, to: url), shared), 1e-5)
  }

  /// fc1's units sit on the last axis: removing them removes fc2's matching input columns.
  /// The 16 units made weakest contribute little, so the result equals the model with fc2's
  /// columns for them zeroed; the flatten after fc2 does not fold its units (fc2 keeps them).
  func testStructuredPruningAlongTheLastAxis() throws {
    let model = sequenceModel()
    let fc1 = try XCTUnwrap(layer(model, "fc1") as? Linear)
    let weak = Array(stride(from: 1, to: 32, by: 2))
    var w = fc1.weight.value.scalars
    for unit in weak { for k in 0..<32 { w[unit * 32 + k] *= 0.01 } }
    fc1.weight.value = Tensor(shape: [32, 32], scalars: w)
    let groups = StructuredPruning.groups(in: model).groups.filter(\.isPrunable)
    XCTAssertEqual(groups.map(\.producers), [["fc1"]])
    XCTAssertEqual(groups.map(\.members), [["fc1", "fc2"]])

    let pruned = try technique("prune", [("method", .string("structured")), ("sparsity", .float(0.5))])
      .applied(to: model, context: context(data))
    XCTAssertEqual(pruned.parameter(named: "fc1.weight")?.shape, [16, 32])
    XCTAssertEqual(pruned.parameter(named: "fc1.bias")?.shape, [16])
    XCTAssertEqual(pruned.parameter(named: "fc2.weight")?.shape, [16, 16])
    let reference = model.copy()
    let fc2 = try XCTUnwrap(reference.parameter(named: "fc2.weight"))
    var columns = fc2.value.scalars
    for o in 0..<16 { for unit in weak { columns[o * 32 + unit] = 0 } }
    fc2.value = Tensor(shape: [16, 32], scalars: columns)
    XCTAssertLessThan(relativeError(pruned, reference), 1e-5)
  }

  /// A batch norm after a rank-3 Linear normalizes axis 1 (the sequence), not the Linear's
  /// units: no group may prune through it.
  func testBatchNormAfterRankThreeLinearIsNoPruningPath() throws {
    var g = SeededGenerator(seed: 12)
    let model = try Model(
      architecture: "t", inputShape: [5, 8], classCount: 3,
      sequence: [
        ("fc1", Linear(inputs: 8, outputs: 8, generator: &g)), ("bn", BatchNorm(channels: 5)),
        ("fc2", Linear(inputs: 8, outputs: 4, generator: &g)), ("flatten", Function(.flatten(startAxis: 1))),
        ("head", Linear(inputs: 20, outputs: 3, generator: &g)),
      ])
    XCTAssertEqual(StructuredPruning.groups(in: model).groups.filter(\.isPrunable).map(\.producers), [])
  }

  /// Quantization-aware training's fake-quantized Linear on rank-3 input: the shape of the
  /// fp32 layer's output and values on the int8 grid's scale of it.
  func testFakeQuantizedLinearOnRankThree() throws {
    let model = sequenceModel()
    let fc2 = try XCTUnwrap(layer(model, "fc2") as? Linear)
    let fake = FakeQuantizedLayer(wrapping: fc2, observer: RangeObserver(low: -1, high: 3, decay: 0.9))
    var g = SeededGenerator(seed: 4)
    let x = Variable(Tensor<Float>.uniform([3, 5, 32], low: 0, high: 2, generator: &g))
    var forward = ForwardContext.inference
    let expected = fc2.forward([x], context: &forward).value
    let y = fake.forward([x], context: &forward).value
    XCTAssertEqual(y.shape, [3, 5, 16])
    XCTAssertLessThan(y.maxAbsDifference(expected), 0.05 * expected.scalars.map(abs).max()!)
    XCTAssertEqual(try fake.outputShape(for: [[3, 5, 32]]), [3, 5, 16])
  }
}
