import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

final class StructuredPruningTests: XCTestCase {
  /// The `count` units (rows along axis 0) with the smallest L1 norms.
  func weakestUnits(_ weight: Tensor<Float>, removing count: Int) -> Set<Int> {
    let units = weight.shape[0]
    let per = weight.count / units
    let w = weight.scalars
    let norms = (0..<units).map { u in (0..<per).reduce(Float(0)) { $0 + abs(w[u * per + $1]) } }
    return Set((0..<units).sorted { norms[$0] < norms[$1] }.prefix(count))
  }

  /// Zeroes the inputs `units` (each `width` consecutive features) of a weight [out, in, ...].
  func zeroInputs(_ parameter: Parameter, units: Set<Int>, width: Int = 1) {
    let shape = parameter.shape
    let inputs = shape[1]
    let per = shape.dropFirst(2).reduce(1, *)
    var w = parameter.value.scalars
    for o in 0..<shape[0] {
      for i in 0..<inputs where units.contains(i / width) {
        for j in 0..<per { w[(o * inputs + i) * per + j] = 0 }
      }
    }
    parameter.value = Tensor(shape: shape, scalars: w)
  }

  func prunedStructured(_ model: Model, _ sparsity: ParameterValue) throws -> Model {
    try technique("prune", [("method", .string("structured")), ("sparsity", sparsity)])
      .applied(to: model, context: context(blobSplit()))
  }

  func testRemovingNeuronsEqualsZeroingTheirOutgoingWeights() throws {
    let model = Architecture.mlp(hidden: [16], inputShape: [8], classCount: 3, seed: 7)
    var g = SeededGenerator(seed: 1)
    model.parameter(named: "fc1.bias")!.value = .normal([16], std: 0.3, generator: &g)
    let pruned = try prunedStructured(model, .float(0.5))
    let removed = weakestUnits(model.parameter(named: "fc1.weight")!.value, removing: 8)
    let reference = model.copy()
    zeroInputs(reference.parameter(named: "fc2.weight")!, units: removed)

    XCTAssertEqual(pruned.parameter(named: "fc1.weight")!.shape, [8, 8])
    XCTAssertEqual(pruned.parameter(named: "fc1.bias")!.shape, [8])
    XCTAssertEqual(pruned.parameter(named: "fc2.weight")!.shape, [3, 8])
    let x = Tensor<Float>.normal([6, 8], generator: &g)
    assertClose(logits(pruned, x), logits(reference, x), tolerance: 1e-5)
    // A model that kept the wrong units would not match.
    XCTAssertGreaterThan(zip(logits(model, x), logits(reference, x)).map { abs($0 - $1) }.max()!, 1e-3)
  }

  /// conv → batch norm → relu → pool → conv → batch norm → relu → pool → flatten → fc → relu → fc.
  func convNet() -> Model {
    var g = SeededGenerator(seed: 4)
    let pool = WindowGeometry(kernel: [2, 2], stride: [2, 2])
    func batchNorm(_ c: Int) -> BatchNorm {
      let bn = BatchNorm(channels: c)
      bn.gamma.value = .uniform([c], low: 0.5, high: 1.5, generator: &g)
      bn.beta.value = .normal([c], std: 0.2, generator: &g)
      bn.runningMean.value = .normal([c], std: 0.2, generator: &g)
      bn.runningVariance.value = .uniform([c], low: 0.5, high: 2, generator: &g)
      return bn
    }
    let sequence: [(String, Layer)] = [
      ("conv1", Conv2d(inChannels: 1, outChannels: 6, kernel: 3, padding: 1, generator: &g)),
      ("bn1", batchNorm(6)), ("relu1", Function(.relu)), ("pool1", Pool2d(.max, geometry: pool)),
      ("conv2", Conv2d(inChannels: 6, outChannels: 8, kernel: 3, padding: 1, generator: &g)),
      ("bn2", batchNorm(8)), ("relu2", Function(.relu)), ("pool2", Pool2d(.max, geometry: pool)),
      ("flatten", Function(.flatten(startAxis: 1))),
      ("fc1", Linear(inputs: 32, outputs: 10, generator: &g)), ("relu3", Function(.relu)),
      ("fc2", Linear(inputs: 10, outputs: 3, generator: &g)),
    ]
    return try! Model(architecture: "test-cnn", inputShape: [1, 8, 8], classCount: 3, sequence: sequence)
  }

  func testRemovingFiltersRewiresBatchNormConvAndFlatten() throws {
    let model = convNet()
    let pruned = try prunedStructured(model, .float(0.5))
    // Expected, computed layer by layer in node order: each layer is ranked after the one
    // before it lost its units (its input slices are gone).
    let reference = model.copy()
    let removed1 = weakestUnits(model.parameter(named: "conv1.weight")!.value, removing: 3)
    zeroInputs(reference.parameter(named: "conv2.weight")!, units: removed1)
    let removed2 = weakestUnits(reference.parameter(named: "conv2.weight")!.value, removing: 4)
    zeroInputs(reference.parameter(named: "fc1.weight")!, units: removed2, width: 4)
    let removed3 = weakestUnits(reference.parameter(named: "fc1.weight")!.value, removing: 5)
    zeroInputs(reference.parameter(named: "fc2.weight")!, units: removed3)

    XCTAssertEqual(pruned.parameter(named: "conv1.weight")!.shape, [3, 1, 3, 3])
    XCTAssertEqual(pruned.parameter(named: "bn1.running_var")!.shape, [3])
    XCTAssertEqual(pruned.parameter(named: "conv2.weight")!.shape, [4, 3, 3, 3])
    XCTAssertEqual(pruned.parameter(named: "bn2.weight")!.shape, [4])
    XCTAssertEqual(pruned.parameter(named: "fc1.weight")!.shape, [5, 16])
    XCTAssertEqual(pruned.parameter(named: "fc2.weight")!.shape, [3, 5])
    // Batch norm kept the statistics of the surviving channels.
    let keptChannels = (0..<6).filter { !removed1.contains($0) }
    let mean = model.parameter(named: "bn1.running_mean")!.value.scalars
    XCTAssertEqual(pruned.parameter(named: "bn1.running_mean")!.value.scalars, keptChannels.map { mean[$0] })

    var g = SeededGenerator(seed: 9)
    let x = Tensor<Float>.uniform([5, 1, 8, 8], low: 0, high: 1, generator: &g)
    assertClose(logits(pruned, x), logits(reference, x), tolerance: 1e-4)
  }

  func testLastLayerIsNeverPrunedAndTheFileShrinks() throws {
    let model = convNet()
    let pruned = try prunedStructured(model, .float(0.75))
    XCTAssertEqual(pruned.parameter(named: "fc2.weight")!.shape[0], 3)
    XCTAssertEqual(pruned.predict(.zeros([2, 1, 8, 8])).shape, [2, 3])
    let groups = StructuredPruning.groups(in: model).groups
    XCTAssertEqual(groups.filter(\.isPrunable).flatMap(\.producers), ["conv1", "conv2", "fc1"])
    XCTAssertEqual(groups.last?.producers, ["fc2"])
    XCTAssertEqual(groups.last?.fixedBy, "the model's output")

    let folder = try temporaryDirectory(self)
    let before = folder.appendingPathComponent("before.safetensors")
    let after = folder.appendingPathComponent("after.safetensors")
    try ModelFile.save(model, to: before)
    let loaded = try deployedRoundTrip(pruned, to: after)
    XCTAssertLessThan(try fileSize(after), try fileSize(before))
    XCTAssertLessThan(pruned.parameterCount, model.parameterCount / 3)
    var g = SeededGenerator(seed: 2)
    let x = Tensor<Float>.uniform([3, 1, 8, 8], low: 0, high: 1, generator: &g)
    XCTAssertEqual(logits(loaded, x), logits(pruned, x))
  }
}
