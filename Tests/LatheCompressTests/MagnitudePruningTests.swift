import Foundation
import LatheCompress
import LatheTensor
import XCTest

final class MagnitudePruningTests: XCTestCase {
  func zeros(_ model: Model, _ name: String) -> Int {
    model.parameter(named: name)!.value.scalars.filter { $0 == 0 }.count
  }

  func testLayerWiseSparsityIsExactPerLayer() throws {
    let model = Architecture.mlp(hidden: [40, 20], inputShape: [30], classCount: 5, seed: 3)
    let step = try technique(
      "prune", [("sparsity", .map([(key: "fc1", value: .float(0.7)), (key: "fc2", value: .float(0.35))]))])
    let pruned = try step.applied(to: model, context: context(blobSplit()))
    XCTAssertEqual(zeros(pruned, "fc1.weight"), 840)  // 0.7 · 1200
    XCTAssertEqual(zeros(pruned, "fc2.weight"), 280)  // 0.35 · 800
    XCTAssertEqual(zeros(pruned, "fc3.weight"), 0)  // not named
    XCTAssertEqual(zeros(model, "fc1.weight"), 0, "the input model must not change")
    // The survivors are exactly the largest magnitudes of the original weight.
    let original = model.parameter(named: "fc1.weight")!.value.scalars
    let kept = pruned.parameter(named: "fc1.weight")!.value.scalars
    let smallestKept = zip(original, kept).filter { $1 != 0 }.map { abs($0.0) }.min()!
    let largestRemoved = zip(original, kept).filter { $1 == 0 }.map { abs($0.0) }.max()!
    XCTAssertGreaterThanOrEqual(smallestKept, largestRemoved)
    // Kept weights keep their values.
    XCTAssertTrue(zip(original, kept).allSatisfy { $1 == 0 || $0 == $1 })
  }

  func testGlobalSparsityIsExactOverallAndUneven() throws {
    let model = Architecture.mlp(hidden: [40], inputShape: [30], classCount: 20, seed: 3)
    // fc2's weights are ten times smaller: a global ranking takes far more of them.
    let fc2 = model.parameter(named: "fc2.weight")!
    fc2.value = fc2.value * 0.1
    let step = try technique("prune", [("sparsity", .float(0.5)), ("scope", .string("global"))])
    let pruned = try step.applied(to: model, context: context(blobSplit()))
    let total = 1200 + 800
    XCTAssertEqual(zeros(pruned, "fc1.weight") + zeros(pruned, "fc2.weight"), total / 2)
    let s1 = Double(zeros(pruned, "fc1.weight")) / 1200
    let s2 = Double(zeros(pruned, "fc2.weight")) / 800
    XCTAssertGreaterThan(s2, 0.9)
    XCTAssertLessThan(s1, 0.3)
    // Threshold: every removed weight is no larger than every kept one, across layers.
    let pairs = ["fc1.weight", "fc2.weight"].flatMap { name in
      zip(model.parameter(named: name)!.value.scalars, pruned.parameter(named: name)!.value.scalars)
    }
    XCTAssertLessThanOrEqual(
      pairs.filter { $1 == 0 }.map { abs($0.0) }.max()!, pairs.filter { $1 != 0 }.map { abs($0.0) }.min()!)
  }

  func testGlobalSparsityWithTiesIsExact() {
    let a = Parameter(Tensor(shape: [10], scalars: [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]))
    let b = Parameter(Tensor(shape: [10], scalars: [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]))
    MagnitudePruning.pruneGlobally([("a", a), ("b", b)], sparsity: 0.35)
    XCTAssertEqual(a.zeroCount + b.zeroCount, 7)
    XCTAssertEqual(a.value.scalars.suffix(5), [2, 2, 2, 2, 2])
  }

  func testMasksKeepEarlierZeros() throws {
    let model = Architecture.mlp(hidden: [20], inputShape: [10], classCount: 3, seed: 1)
    var generator = SeededGenerator(seed: 5)
    let first = try technique("prune", [("sparsity", .float(0.5))]).applied(to: model, context: context(blobSplit()))
    let zeroedFirst = Set(
      first.parameter(named: "fc1.weight")!.value.scalars.indices.filter {
        first.parameter(named: "fc1.weight")!.value.scalars[$0] == 0
      })
    // Training in between moves every kept weight; the pruned ones stay zero and stay pruned.
    _ = Trainer(TrainingConfiguration(epochs: 1, batchSize: 8, learningRate: 0.05)).train(
      first,
      on: Dataset(
        name: "x", inputs: .normal([24, 10], generator: &generator), labels: (0..<24).map { $0 % 3 },
        classCount: 3))
    let second = try technique("prune", [("sparsity", .float(0.7))]).applied(to: first, context: context(blobSplit()))
    let values = second.parameter(named: "fc1.weight")!.value.scalars
    XCTAssertTrue(zeroedFirst.allSatisfy { values[$0] == 0 })
    XCTAssertEqual(values.filter { $0 == 0 }.count, 140)
    XCTAssertEqual(second.parameter(named: "fc1.weight")!.mask?.scalars.filter { $0 == 0 }.count, 140)
  }

  func testScheduledSparsityFollowsTheCubicFormula() {
    let (si, sf, n) = (0.1, 0.9, 20)
    XCTAssertEqual(GradualPrune.scheduledSparsity(event: 0, of: n, initial: si, final: sf), si, accuracy: 1e-12)
    // s = sf + (si − sf)(1 − 1/2)³ = 0.9 − 0.8 / 8.
    XCTAssertEqual(GradualPrune.scheduledSparsity(event: n / 2, of: n, initial: si, final: sf), 0.8, accuracy: 1e-12)
    XCTAssertEqual(GradualPrune.scheduledSparsity(event: n, of: n, initial: si, final: sf), sf, accuracy: 1e-12)
    XCTAssertEqual(
      GradualPrune.scheduledSparsity(event: 5, of: n, initial: si, final: sf), 0.9 - 0.8 * 0.421875, accuracy: 1e-12)
    let values = (0...n).map { GradualPrune.scheduledSparsity(event: $0, of: n, initial: si, final: sf) }
    XCTAssertTrue(zip(values, values.dropFirst()).allSatisfy { $0 < $1 }, "\(values)")
    // It rises fastest at first.
    XCTAssertGreaterThan(values[1] - values[0], values[n] - values[n - 1])
  }

  func testGradualPruneReachesTheFinalSparsity() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let step = try technique(
      "gradual-prune",
      [("final_sparsity", .float(0.8)), ("pruning_epochs", .int(2)), ("epochs", .int(3)), ("lr", .float(0.02))])
    let pruned = try step.applied(to: model, context: context(data))
    XCTAssertEqual(zeros(pruned, "fc1.weight"), Int((0.8 * 4096).rounded()))
    XCTAssertEqual(zeros(pruned, "fc2.weight"), Int((0.8 * 192).rounded()))
    XCTAssertGreaterThan(Evaluator.accuracy(of: pruned, on: data.test), 0.9)
  }

  func testMasksSurviveFineTuning() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let pruned = try technique("prune", [("sparsity", .float(0.8))]).applied(to: model, context: context(data))
    let before = pruned.parameter(named: "fc1.weight")!.value.scalars
    let tuned = try technique("fine-tune", [("epochs", .int(2)), ("lr", .float(0.05))]).applied(
      to: pruned, context: context(data))
    let after = tuned.parameter(named: "fc1.weight")!.value.scalars
    for i in before.indices where before[i] == 0 { XCTAssertEqual(after[i], 0) }
    // The kept weights did train.
    XCTAssertTrue(before.indices.contains { before[$0] != 0 && after[$0] != before[$0] })
    XCTAssertEqual(after.filter { $0 == 0 }.count, before.filter { $0 == 0 }.count)
    // Fine-tuning worked on a copy.
    XCTAssertEqual(pruned.parameter(named: "fc1.weight")!.value.scalars, before)
  }
}
