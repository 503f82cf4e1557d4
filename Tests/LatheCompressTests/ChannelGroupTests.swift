import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

/// Channel groups across residual Adds, depthwise convolutions and Concats: the pruned model
/// computes exactly what the original computes with the removed channels' readers zeroed.
final class ChannelGroupTests: XCTestCase {
  var g = SeededGenerator(seed: 21)

  func conv(_ i: Int, _ o: Int, kernel: Int = 1, groups: Int = 1) -> Conv2d {
    let c = Conv2d(inChannels: i, outChannels: o, kernel: kernel, padding: kernel / 2, groups: groups, generator: &g)
    c.bias!.value = .normal([o], std: 0.3, generator: &g)
    return c
  }

  func batchNorm(_ c: Int) -> BatchNorm {
    let bn = BatchNorm(channels: c)
    bn.gamma.value = .uniform([c], low: 0.5, high: 1.5, generator: &g)
    bn.beta.value = .normal([c], std: 0.3, generator: &g)
    bn.runningMean.value = .normal([c], std: 0.2, generator: &g)
    bn.runningVariance.value = .uniform([c], low: 0.5, high: 2, generator: &g)
    return bn
  }

  /// stem → bn → relu ─┬─────────────────────────────────────────────┬→ add → head → gap → fc
  ///                   └→ expand → relu → depthwise → relu → project → bn ┘
  func residualModel() throws -> Model {
    let nodes: [Node] = [
      Node("stem", conv(3, 8, kernel: 3), inputs: ["input"]),
      Node("bn0", batchNorm(8), inputs: ["stem"]),
      Node("relu0", Function(.relu), inputs: ["bn0"]),
      Node("expand", conv(8, 16), inputs: ["relu0"]),
      Node("relu1", Function(.relu), inputs: ["expand"]),
      Node("dw", conv(16, 16, kernel: 3, groups: 16), inputs: ["relu1"]),
      Node("relu2", Function(.relu), inputs: ["dw"]),
      Node("project", conv(16, 8), inputs: ["relu2"]),
      Node("bn1", batchNorm(8), inputs: ["project"]),
      Node("add", Function(.add), inputs: ["relu0", "bn1"]),
      Node("head", conv(8, 12), inputs: ["add"]),
      Node("relu3", Function(.relu), inputs: ["head"]),
      Node("gap", Function(.globalAvgPool), inputs: ["relu3"]),
      Node("flatten", Function(.flatten(startAxis: 1)), inputs: ["gap"]),
      Node("fc", Linear(inputs: 12, outputs: 3, generator: &g), inputs: ["flatten"]),
    ]
    return try Model(architecture: "residual", inputShape: [3, 6, 6], classCount: 3, nodes: nodes)
  }

  func layer<T>(_ model: Model, _ name: String, as: T.Type = T.self) -> T {
    model.nodes.first { $0.name == name }!.layer as! T
  }

  /// Makes `channels` of a group weak: the rows of every producer shrink 100-fold, so any norm
  /// ranks them last.
  func weaken(_ model: Model, producers: [String], channels: [Int]) {
    for name in producers {
      let weight = StructuredPruningTestsSupport.weight(model, name)
      let per = weight.value.count / weight.shape[0]
      var w = weight.value.scalars
      for c in channels { for k in 0..<per { w[c * per + k] *= 0.01 } }
      weight.value = Tensor(shape: weight.shape, scalars: w)
    }
  }

  func input(_ batch: Int, _ shape: [Int]) -> Tensor<Float> {
    .uniform([batch] + shape, low: -1, high: 1, generator: &g)
  }

  func testResidualAddJoinsBothSidesAndDepthwiseFollowsItsInput() throws {
    let model = try residualModel()
    let groups = StructuredPruning.groups(in: model).groups
    XCTAssertEqual(groups.map(\.producers), [["stem", "project"], ["expand"], ["head"], ["fc"]])
    XCTAssertEqual(groups.map(\.isPrunable), [true, true, true, false])
    XCTAssertEqual(Set(groups[0].members), ["stem", "project", "bn0", "bn1", "expand", "head"])
    XCTAssertEqual(Set(groups[1].members), ["expand", "dw", "project"])
    XCTAssertEqual(groups[3].fixedBy, "the model's output")

    weaken(model, producers: ["stem", "project"], channels: [1, 4, 6, 7])
    weaken(model, producers: ["expand"], channels: Array(stride(from: 0, to: 16, by: 2)))
    weaken(model, producers: ["head"], channels: [0, 1, 2, 3, 5, 8])
    let pruned = try technique("prune", [("method", .string("structured")), ("sparsity", .float(0.5))])
      .applied(to: model, context: context(blobSplit()))

    XCTAssertEqual(pruned.parameter(named: "stem.weight")!.shape, [4, 3, 3, 3])
    XCTAssertEqual(pruned.parameter(named: "bn0.running_mean")!.shape, [4])
    XCTAssertEqual(pruned.parameter(named: "expand.weight")!.shape, [8, 4, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "dw.weight")!.shape, [8, 1, 3, 3])
    XCTAssertEqual(layer(pruned, "dw", as: Conv2d.self).groups, 8)
    XCTAssertEqual(pruned.parameter(named: "project.weight")!.shape, [4, 8, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "bn1.weight")!.shape, [4])
    XCTAssertEqual(pruned.parameter(named: "head.weight")!.shape, [6, 4, 1, 1])
    XCTAssertEqual(pruned.parameter(named: "fc.weight")!.shape, [3, 6])

    // The same model with the removed channels' readers zeroed computes the same.
    let reference = model.copy()
    StructuredPruningTestsSupport.zeroInputs(reference, "expand", [1, 4, 6, 7])
    StructuredPruningTestsSupport.zeroInputs(reference, "head", [1, 4, 6, 7])
    StructuredPruningTestsSupport.zeroInputs(reference, "project", Array(stride(from: 0, to: 16, by: 2)))
    StructuredPruningTestsSupport.zeroInputs(reference, "fc", [0, 1, 2, 3, 5, 8])
    let x = input(4, [3, 6, 6])
    assertClose(logits(pruned, x), logits(reference, x), tolerance: 1e-5)
    XCTAssertGreaterThan(zip(logits(model, x), logits(reference, x)).map { abs($0 - $1) }.max()!, 1e-3)
  }

  func testConcatOffsetsEachInputsChannels() throws {
    let nodes: [Node] = [
      Node("a", conv(3, 4, kernel: 3), inputs: ["input"]),
      Node("b", conv(3, 6), inputs: ["input"]),
      Node("relu", Function(.relu), inputs: ["b"]),
      Node("cat", Function(.concat(axis: 1)), inputs: ["a", "relu"]),
      Node("dw", conv(10, 10, kernel: 3, groups: 10), inputs: ["cat"]),
      Node("mix", conv(10, 5), inputs: ["dw"]),
      Node("gap", Function(.globalAvgPool), inputs: ["mix"]),
      Node("flatten", Function(.flatten(startAxis: 1)), inputs: ["gap"]),
      Node("fc", Linear(inputs: 5, outputs: 3, generator: &g), inputs: ["flatten"]),
    ]
    let model = try Model(architecture: "concat", inputShape: [3, 5, 5], classCount: 3, nodes: nodes)
    let groups = StructuredPruning.groups(in: model).groups
    XCTAssertEqual(groups.map(\.producers), [["a"], ["b"], ["mix"], ["fc"]])
    XCTAssertEqual(groups.map(\.isPrunable), [true, true, true, false])

    weaken(model, producers: ["a"], channels: [0, 2])
    weaken(model, producers: ["b"], channels: [1, 3, 5])
    let pruned = try technique(
      "prune", [("method", .string("structured")), ("sparsity", .map([("a", .float(0.5)), ("b", .float(0.5))]))]
    ).applied(to: model, context: context(blobSplit()))
    XCTAssertEqual(pruned.parameter(named: "dw.weight")!.shape, [5, 1, 3, 3])
    XCTAssertEqual(pruned.parameter(named: "mix.weight")!.shape, [5, 5, 1, 1])
    let reference = model.copy()
    // a's channels 0 and 2, and b's 1, 3 and 5 after a's four.
    StructuredPruningTestsSupport.zeroInputs(reference, "mix", [0, 2, 5, 7, 9])
    let x = input(3, [3, 5, 5])
    assertClose(logits(pruned, x), logits(reference, x), tolerance: 1e-5)
  }

  /// A softmax over the channels' last axis, a residual operand from no group, a grouped
  /// convolution: each keeps the channels it reads whole.
  func testUnknownReadersKeepTheirGroupsWhole() throws {
    let nodes: [Node] = [
      Node("c1", conv(3, 6), inputs: ["input"]),
      Node("soft", Function(.softmax), inputs: ["c1"]),
      Node("c2", conv(6, 6), inputs: ["soft"]),
      Node("add", Function(.add), inputs: ["c2", "soft"]),
      Node("c3", conv(6, 4), inputs: ["add"]),
      Node("grouped", conv(4, 4, kernel: 3, groups: 2), inputs: ["c3"]),
      Node("c4", conv(4, 8), inputs: ["grouped"]),
      Node("gap", Function(.globalAvgPool), inputs: ["c4"]),
      Node("flatten", Function(.flatten(startAxis: 1)), inputs: ["gap"]),
      Node("fc", Linear(inputs: 8, outputs: 3, generator: &g), inputs: ["flatten"]),
    ]
    let model = try Model(architecture: "opaque", inputShape: [3, 4, 4], classCount: 3, nodes: nodes)
    let groups = StructuredPruning.groups(in: model).groups
    XCTAssertEqual(groups.map(\.producers), [["c1"], ["c2"], ["c3"], ["c4"], ["fc"]])
    XCTAssertEqual(
      groups.map(\.fixedBy),
      ["soft", "add (an operand of no group)", "grouped (grouped convolution)", nil, "the model's output"])

    let pruned = try technique("prune", [("method", .string("structured")), ("sparsity", .float(0.5))])
      .applied(to: model, context: context(blobSplit()))
    for (name, shape) in [("c1", [6, 3]), ("c2", [6, 6]), ("c3", [4, 6]), ("grouped", [4, 2]), ("c4", [4, 4])] {
      XCTAssertEqual(Array(pruned.parameter(named: "\(name).weight")!.shape.prefix(2)), shape, name)
    }
    let x = input(2, [3, 4, 4])
    XCTAssertEqual(pruned.predict(x).shape, [2, 3])
  }

  func testMACTargetShrinksTheModelAndItsFile() throws {
    let model = try residualModel()
    let before = StructuredPruning.groups(in: model).macs
    // stem 8·27·36, expand 16·8·36, dw 16·9·36, project 8·16·36, head 12·8·36, fc 36.
    XCTAssertEqual(before, (216 + 128 + 144 + 128 + 96) * 36 + 36)
    let step = try technique("prune", [("method", .string("structured")), ("target_macs", .float(0.5))])
    let ctx = context(blobSplit())
    let pruned = try step.applied(to: model, context: ctx)
    let after = StructuredPruning.groups(in: pruned).macs
    XCTAssertEqual(Double(after) / Double(before), try XCTUnwrap(ctx.findings.macRatio), accuracy: 1e-9)
    XCTAssertLessThanOrEqual(Double(after), 0.5 * Double(before))
    XCTAssertGreaterThan(Double(after), 0.35 * Double(before))
    XCTAssertLessThan(pruned.parameterCount, model.parameterCount * 6 / 10)

    let folder = try temporaryDirectory(self)
    try ModelFile.save(model, to: folder.appendingPathComponent("before.safetensors"))
    let loaded = try deployedRoundTrip(pruned, to: folder.appendingPathComponent("after.safetensors"))
    XCTAssertLessThan(
      try fileSize(folder.appendingPathComponent("after.safetensors")),
      try fileSize(folder.appendingPathComponent("before.safetensors")))
    let x = input(3, [3, 6, 6])
    XCTAssertEqual(logits(loaded, x), logits(pruned, x))
    XCTAssertThrowsError(
      try technique(
        "prune", [("method", .string("structured")), ("target_macs", .float(0.5)), ("sparsity", .float(0.3))]))
    XCTAssertThrowsError(try technique("prune", [("target_macs", .float(0.5))]))
  }

  /// Fine-tuning with the input model as teacher reads no labels: on a set without any it runs,
  /// and brings the pruned model's outputs closer to the teacher's.
  func testDistillationFineTuneNeedsNoLabels() throws {
    let model = try residualModel()
    let unlabelled = { (count: Int) in
      Dataset(name: "pages", inputs: self.input(count, [3, 6, 6]), labels: nil, classCount: 3)
    }
    let data = DatasetSplit(train: unlabelled(48), test: unlabelled(16))
    let prune: [(String, ParameterValue)] = [("method", .string("structured")), ("target_macs", .float(0.5))]
    let tune: [(String, ParameterValue)] = [
      ("epochs", .int(8)), ("teacher", .string("input")), ("lr", .float(0.01)), ("optimizer", .string("adam")),
      ("batch_size", .int(8)),
    ]
    XCTAssertFalse(try technique("prune", prune + tune).needsLabels)
    XCTAssertTrue(try technique("prune", prune + [("epochs", .int(1))]).needsLabels)
    XCTAssertFalse(try technique("prune", prune).needsLabels)

    let prunedOnly = try technique("prune", prune).applied(to: model, context: context(data, input: model))
    let tuned = try technique("prune", prune + tune).applied(to: model, context: context(data, input: model))
    let x = data.test.inputs
    func distance(_ m: Model) -> Float {
      zip(logits(m, x), logits(model, x)).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    }
    XCTAssertLessThan(distance(tuned), distance(prunedOnly) * 0.7)
  }
}

/// Helpers shared by the structured pruning tests.
enum StructuredPruningTestsSupport {
  static func weight(_ model: Model, _ name: String) -> Parameter {
    model.parameter(named: "\(name).weight")!
  }

  /// Zeroes input channels (axis 1) `channels` of a layer's weight [out, in, ...].
  static func zeroInputs(_ model: Model, _ name: String, _ channels: [Int]) {
    let parameter = weight(model, name)
    let shape = parameter.shape
    let per = shape.dropFirst(2).reduce(1, *)
    var w = parameter.value.scalars
    for o in 0..<shape[0] {
      for i in channels { for k in 0..<per { w[(o * shape[1] + i) * per + k] = 0 } }
    }
    parameter.value = Tensor(shape: shape, scalars: w)
  }
}
