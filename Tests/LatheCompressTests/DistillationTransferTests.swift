import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

final class DistillationTransferTests: XCTestCase {
  func logSoftmax(_ row: [Double]) -> [Double] {
    let m = row.max()!
    let s = log(row.reduce(0) { $0 + exp($1 - m) }) + m
    return row.map { $0 - s }
  }

  func testDistillationLossMatchesTheFormula() {
    var g = SeededGenerator(seed: 3)
    let teacher = Architecture.mlp(hidden: [5], inputShape: [4], classCount: 3, seed: 1)
    let inputs = Tensor<Float>.normal([2, 4], generator: &g)
    let student: [Float] = [0.5, -1, 2, 0.1, 0.2, -0.3]
    let labels = [2, 0]
    let (t, alpha): (Float, Float) = (3, 0.7)
    let loss = Distillation.loss(teacher: teacher, temperature: t, alpha: alpha)(
      Variable(Tensor(shape: [2, 3], scalars: student)), labels, inputs)

    let teacherLogits = teacher.predict(inputs).scalars
    var kl = 0.0
    var ce = 0.0
    let temperature = Double(t)
    for r in 0..<2 {
      let s = (0..<3).map { Double(student[r * 3 + $0]) }
      let z = (0..<3).map { Double(teacherLogits[r * 3 + $0]) }
      let p = logSoftmax(z.map { $0 / temperature })
      let q = logSoftmax(s.map { $0 / temperature })
      kl += (0..<3).reduce(0) { $0 + exp(p[$1]) * (p[$1] - q[$1]) }
      ce -= logSoftmax(s)[labels[r]]
    }
    let expected = Double(alpha) * temperature * temperature * kl / 2 + Double(1 - alpha) * ce / 2
    XCTAssertEqual(Double(loss.value.scalar), expected, accuracy: 1e-5)
    // α = 0 is plain cross-entropy.
    let hard = Distillation.loss(teacher: teacher, temperature: t, alpha: 0)(
      Variable(Tensor(shape: [2, 3], scalars: student)), labels, inputs)
    XCTAssertEqual(Double(hard.value.scalar), ce / 2, accuracy: 1e-5)
  }

  func labelled(_ labels: [Int]) -> Dataset {
    Dataset(
      name: "d", inputs: Tensor(shape: [labels.count, 1], scalars: labels.indices.map(Float.init)), labels: labels,
      classCount: 4)
  }

  func testRestrictedRelabelsAndFilters() {
    let data = labelled([0, 1, 2, 3, 2, 0, 1, 2])
    let restricted = data.restricted(to: [2, 0])
    XCTAssertEqual(restricted.classCount, 2)
    XCTAssertEqual(restricted.labels, [1, 0, 0, 1, 0])  // 0 → 1, 2 → 0, in dataset order
    XCTAssertEqual(restricted.inputs.scalars, [0, 2, 4, 5, 7])
  }

  func testFewShotTakesAtMostNPerClassDeterministically() {
    let data = labelled((0..<40).map { [0, 1, 1, 2, 2, 2, 3, 3][$0 % 8] })
    let shot = data.fewShot(perClass: 4, seed: 9)
    let counts = Dictionary(grouping: shot.labels, by: { $0 }).mapValues(\.count)
    XCTAssertEqual(counts, [0: 4, 1: 4, 2: 4, 3: 4])
    XCTAssertEqual(shot.inputs.scalars, data.fewShot(perClass: 4, seed: 9).inputs.scalars)
    XCTAssertNotEqual(shot.inputs.scalars, data.fewShot(perClass: 4, seed: 10).inputs.scalars)
    // Every pick is a real example with its own label.
    for (x, label) in zip(shot.inputs.scalars, shot.labels) { XCTAssertEqual(data.labels[Int(x)], label) }
    let few = labelled([0, 0, 1]).fewShot(perClass: 5, seed: 1)
    XCTAssertEqual(few.labels.sorted(), [0, 0, 1])
  }

  func testTransferKeepsFrozenLayersAndReplacesTheHead() throws {
    let full = blobSplit(train: 300, test: 100, classes: 5)
    let model = trainedDigitsMLP(DatasetSplit(train: full.train.restricted(to: [0, 1, 2]), test: full.test), epochs: 2)
    let step = try technique(
      "transfer",
      [
        ("target_classes", .list([.int(3), .int(4)])), ("labels_per_class", .int(10)),
        ("freeze", .list([.string("fc1")])),
        ("epochs", .int(10)), ("batch_size", .int(4)), ("lr", .float(0.05)),
      ])
    let c = context(full)
    let result = try step.applied(to: model, context: c)
    XCTAssertEqual(result.parameter(named: "fc1.weight")!.value, model.parameter(named: "fc1.weight")!.value)
    XCTAssertEqual(result.parameter(named: "fc1.bias")!.value, model.parameter(named: "fc1.bias")!.value)
    XCTAssertEqual(result.parameter(named: "fc2.weight")!.shape, [2, 64])
    XCTAssertEqual(result.classCount, 2)
    XCTAssertEqual(c.data.train.count, 20)
    XCTAssertEqual(c.data.test.classCount, 2)
    XCTAssertEqual(c.data.test.count, 40)
    XCTAssertEqual(c.findings.labelledExamples, 20)
    XCTAssertNotNil(c.findings.scratchAccuracy)
    XCTAssertGreaterThan(Evaluator.accuracy(of: result, on: c.data.test), 0.9)
    XCTAssertTrue(result.namedParameters.allSatisfy { !$0.parameter.isFrozen })
    XCTAssertEqual(model.classCount, 3, "the input model must not change")
  }

  func testSensitivityTargetsAreTheLargestSparsityWithinBudget() throws {
    let data = blobSplit(train: 240, test: 150)
    let model = trainedDigitsMLP(data, epochs: 2)
    let sparsities = [0.5, 0.9, 0.97, 0.995]
    let folder = try temporaryDirectory(self)
    let c = context(data)
    c.outputDirectory = folder
    let step = try technique(
      "sensitivity", [("sparsities", .list(sparsities.map { .float($0) })), ("max_drop", .float(2))])
    let result = try step.applied(to: model, context: c)
    XCTAssertEqual(result.parameter(named: "fc1.weight")!.value, model.parameter(named: "fc1.weight")!.value)

    let baseline = Evaluator.accuracy(of: model, on: data.test)
    let table = try SensitivityAnalysis.sweep(model, layers: ["fc1", "fc2"], sparsities: sparsities, test: data.test)
    var expected: [String: Double] = [:]
    for layer in ["fc1", "fc2"] {
      expected[layer] = 0
      for (s, accuracy) in table[layer]! where (baseline - accuracy) * 100 <= 2 + 1e-4 {
        expected[layer] = max(expected[layer]!, s)
      }
    }
    XCTAssertEqual(c.state.sensitivityTargets?.sparsityByLayer, expected)
    XCTAssertEqual(c.findings.metricsExtra, ["target_fc1": expected["fc1"]!, "target_fc2": expected["fc2"]!])
    XCTAssertNotEqual(expected["fc1"], expected["fc2"], "the test wants layers of different sensitivity: \(table)")
    let csv = try String(contentsOf: folder.appendingPathComponent("sensitivity.csv"), encoding: .utf8)
    XCTAssertEqual(csv.split(separator: "\n").count, 1 + 2 * sparsities.count)

    // A later prune step uses exactly those targets.
    let pruned = try technique("prune", [("use_sensitivity", .bool(true))]).applied(to: model, context: c)
    for layer in ["fc1", "fc2"] {
      let p = pruned.parameter(named: "\(layer).weight")!
      XCTAssertEqual(p.zeroCount, Int((Double(p.value.count) * expected[layer]!).rounded()), layer)
    }
  }
}
