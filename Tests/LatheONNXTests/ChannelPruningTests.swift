import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// Structured pruning of a graph as imported from ONNX: a MobileNetV3 block (biases as Add of a
/// constant, HardSwish, depthwise convolution, squeeze-excitation with HardSigmoid and Mul), a
/// Reshape into the classifier and a final Softmax.
final class ChannelPruningTests: XCTestCase {
  var g = SeededGenerator(seed: 5)

  func conv(_ i: Int, _ o: Int, kernel: Int = 1, groups: Int = 1, bias: Bool = true) -> Conv2d {
    let c = Conv2d(inChannels: i, outChannels: o, kernel: kernel, padding: kernel / 2, groups: groups, generator: &g)
    return Conv2d(
      weight: c.weight, bias: bias ? Parameter(.normal([o], std: 0.3, generator: &g)) : nil,
      padding: c.padding, groups: groups)
  }

  func constant(_ shape: [Int]) -> ONNXConstantLayer { ONNXConstantLayer(.normal(shape, std: 0.3, generator: &g)) }

  func mobileBlock() throws -> Model {
    let hardSwish = { ONNXMathOp(.unary("HardSwish")) }
    let nodes: [Node] = [
      Node("c0", conv(3, 8, kernel: 3, bias: false), inputs: ["input"]),
      Node("b0", constant([1, 8, 1, 1]), inputs: []),
      Node("add0", Function(.add), inputs: ["c0", "b0"]),
      Node("hs0", hardSwish(), inputs: ["add0"]),
      Node("dw", conv(8, 8, kernel: 3, groups: 8), inputs: ["hs0"]),
      Node("hs1", hardSwish(), inputs: ["dw"]),
      Node("gap", Function(.globalAvgPool), inputs: ["hs1"]),
      Node("reduce", conv(8, 4, bias: false), inputs: ["gap"]),
      Node("b1", constant([1, 4, 1, 1]), inputs: []),
      Node("add1", Function(.add), inputs: ["reduce", "b1"]),
      Node("relu", Function(.relu), inputs: ["add1"]),
      Node("expand", conv(4, 8), inputs: ["relu"]),
      Node("gate", ONNXOp(.hardSigmoid(alpha: 0.2, beta: 0.5)), inputs: ["expand"]),
      Node("se", ONNXOp(.mul), inputs: ["hs1", "gate"]),
      Node("c1", conv(8, 6), inputs: ["se"]),
      Node("hs2", hardSwish(), inputs: ["c1"]),
      Node("gap2", Function(.globalAvgPool), inputs: ["hs2"]),
      Node("scale", constant([1]), inputs: []),
      Node("mul", ONNXOp(.mul), inputs: ["gap2", "scale"]),
      Node("reshape", ONNXOp(.reshape(shape: [-1, 6], allowZero: false)), inputs: ["mul"]),
      Node("fc", Linear(inputs: 6, outputs: 3, generator: &g), inputs: ["reshape"]),
      Node("softmax", Function(.softmax), inputs: ["fc"]),
    ]
    return try Model(architecture: "mobile", inputShape: [3, 6, 6], classCount: 3, nodes: nodes)
  }

  func weaken(_ model: Model, _ producers: [String], _ channels: [Int]) {
    for name in producers {
      let weight = model.parameter(named: "\(name).weight")!
      let per = weight.value.count / weight.shape[0]
      var w = weight.value.scalars
      for c in channels { for k in 0..<per { w[c * per + k] *= 0.01 } }
      weight.value = Tensor(shape: weight.shape, scalars: w)
    }
  }

  func zeroInputs(_ model: Model, _ name: String, _ channels: [Int]) {
    let parameter = model.parameter(named: "\(name).weight")!
    let shape = parameter.shape
    let per = shape.dropFirst(2).reduce(1, *)
    var w = parameter.value.scalars
    for o in 0..<shape[0] { for i in channels { for k in 0..<per { w[(o * shape[1] + i) * per + k] = 0 } } }
    parameter.value = Tensor(shape: shape, scalars: w)
  }

  func data(_ count: Int, labelled: Bool) -> Dataset {
    let x = Tensor<Float>.uniform([count, 3, 6, 6], low: 0, high: 1, generator: &g)
    return Dataset(name: "d", inputs: x, labels: labelled ? (0..<count).map { $0 % 3 } : nil, classCount: 3)
  }

  func context(_ split: DatasetSplit, input: Model) -> StepContext {
    StepContext(data: split, loadModel: { _ in input.copy() }, isCancelled: { false })
  }

  func testSqueezeExcitationTiesTheExpandToTheTrunk() throws {
    let model = try mobileBlock()
    let groups = StructuredPruning.groups(in: model).groups
    XCTAssertEqual(groups.map(\.producers), [["c0", "expand"], ["reduce"], ["c1"], ["fc"]])
    XCTAssertEqual(groups.map(\.isPrunable), [true, true, true, false])
    XCTAssertEqual(Set(groups[0].members), ["c0", "expand", "b0", "dw", "reduce", "c1"])
    XCTAssertEqual(Set(groups[1].members), ["reduce", "b1", "expand"])
    XCTAssertEqual(Set(groups[2].members), ["c1", "reshape", "fc"])

    weaken(model, ["c0", "expand"], [0, 3, 5])
    weaken(model, ["reduce"], [1, 2])
    weaken(model, ["c1"], [2, 4])
    let split = DatasetSplit(train: data(8, labelled: true), test: data(4, labelled: true))
    let step = try Techniques.make(
      StepSpec(
        name: "p", technique: "prune",
        parameters: [(key: "method", value: .string("structured")), (key: "sparsity", value: .float(0.4))]),
      file: "t")
    let pruned = try step.applied(to: model, context: context(split, input: model))
    XCTAssertEqual(pruned.parameter(named: "b0.value")?.shape, [1, 5, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "dw.weight")?.shape, [5, 1, 3, 3])
    XCTAssertEqual(pruned.parameter(named: "reduce.weight")?.shape, [2, 5, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "b1.value")?.shape, [1, 2, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "expand.weight")?.shape, [5, 2, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "expand.bias")?.shape, [5])
    XCTAssertEqual(pruned.parameter(named: "fc.weight")?.shape, [3, 4])
    XCTAssertEqual(pruned.parameter(named: "scale.value")?.shape, [1])
    XCTAssertEqual(pruned.nodes.first { $0.name == "reshape" }?.layer.op, "flatten")

    let reference = model.copy()
    zeroInputs(reference, "reduce", [0, 3, 5])
    zeroInputs(reference, "c1", [0, 3, 5])
    zeroInputs(reference, "expand", [1, 2])
    zeroInputs(reference, "fc", [2, 4])
    let x = Tensor<Float>.uniform([3, 3, 6, 6], low: 0, high: 1, generator: &g)
    XCTAssertLessThan(pruned.predict(x).maxAbsDifference(reference.predict(x)), 1e-6)
    XCTAssertGreaterThan(model.predict(x).maxAbsDifference(reference.predict(x)), 1e-4)

    // Saved, loaded, exported to ONNX and imported: the same outputs.
    let back = try savedAndReopened(pruned, x, expecting: pruned.predict(x))
    let imported = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(imported.predict(x).maxAbsDifference(pruned.predict(x)), 1e-5)
  }

  /// A Mul of the trunk by a tensor of its size from no group (here the input itself, through
  /// an opaque transpose) keeps the trunk's group whole.
  func testUnknownOperandKeepsTheTrunk() throws {
    let nodes: [Node] = [
      Node("c0", conv(3, 3), inputs: ["input"]),
      Node("t", ONNXOp(.transpose(permutation: [0, 1, 3, 2])), inputs: ["input"]),
      Node("mul", ONNXOp(.mul), inputs: ["c0", "t"]),
      Node("c1", conv(3, 4), inputs: ["mul"]),
      Node("gap", Function(.globalAvgPool), inputs: ["c1"]),
      Node("flatten", Function(.flatten(startAxis: 1)), inputs: ["gap"]),
      Node("fc", Linear(inputs: 4, outputs: 2, generator: &g), inputs: ["flatten"]),
    ]
    let model = try Model(architecture: "m", inputShape: [3, 4, 4], classCount: 2, nodes: nodes)
    XCTAssertEqual(
      StructuredPruning.groups(in: model).groups.map(\.fixedBy),
      ["mul (an operand of no group)", nil, "the model's output"])
  }

  /// The block trains through every imported op (HardSwish, HardSigmoid, Mul, Reshape, the
  /// depthwise convolution), pruned to half its MACs and distilled from the unpruned block on a
  /// set without labels; the final Softmax is left out of the loss.
  func testPrunedBlockDistilsWithoutLabels() throws {
    let model = try mobileBlock()
    XCTAssertEqual(model.logitGraph.nodes.last?.name, "fc")
    XCTAssertEqual(model.nodes.last?.name, "softmax")
    let split = DatasetSplit(train: data(32, labelled: false), test: data(8, labelled: false))
    func step(_ epochs: Int) throws -> any Technique {
      try Techniques.make(
        StepSpec(
          name: "p", technique: "prune",
          parameters: [
            (key: "method", value: .string("structured")), (key: "target_macs", value: .float(0.5)),
            (key: "epochs", value: .int(epochs)), (key: "teacher", value: .string("input")),
            (key: "optimizer", value: .string("adam")), (key: "lr", value: .float(0.01)),
            (key: "batch_size", value: .int(8)),
          ]), file: "t")
    }
    let prunedOnly = try step(0).applied(to: model, context: context(split, input: model))
    let tuned = try step(10).applied(to: model, context: context(split, input: model))
    XCTAssertEqual(tuned.nodes.last?.name, "softmax")
    let x = split.test.inputs
    let teacher = model.logitGraph.predict(x)
    XCTAssertLessThan(
      tuned.logitGraph.predict(x).maxAbsDifference(teacher), prunedOnly.logitGraph.predict(x).maxAbsDifference(teacher))
  }
}
