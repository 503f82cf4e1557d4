import Foundation
import LatheTensor
import XCTest

/// Two well-separated Gaussian blobs per class in 8x8 "images", so a tiny model must learn them.
func blobs(count: Int, classes: Int = 3, seed: UInt64) -> Dataset {
  var g = SeededGenerator(seed: seed)
  var centres: [[Float]] = []
  var cg = SeededGenerator(seed: 99)
  for _ in 0..<classes { centres.append((0..<64).map { _ in cg.nextUniform() }) }
  var labels: [Int] = []
  let inputs = Tensor<Float>(shape: [count, 1, 8, 8]) { p in
    for i in 0..<count {
      let label = i % classes
      labels.append(label)
      for j in 0..<64 { p[i * 64 + j] = centres[label][j] + 0.15 * g.nextNormal() }
    }
  }
  return Dataset(name: "blobs", inputs: inputs, labels: labels, classCount: classes)
}

final class TrainingTests: XCTestCase {
  func testEveryOptimizerLearnsSeparableData() {
    let train = blobs(count: 300, seed: 1)
    let test = blobs(count: 150, seed: 2)
    for kind in [OptimizerKind.sgd(), .sgd(nesterov: true), .adam(), .adamW()] {
      let model = Architecture.digitsMLP.build(classCount: 3, seed: 0)
      let before = Evaluator.accuracy(of: model, on: test)
      let lr: Float = kind.name.hasPrefix("adam") ? 0.003 : 0.05
      _ = Trainer(TrainingConfiguration(epochs: 5, batchSize: 16, learningRate: lr, optimizer: kind)).train(
        model, on: train)
      let after = Evaluator.accuracy(of: model, on: test)
      XCTAssertGreaterThan(after, 0.95, "\(kind) reached \(after) from \(before)")
    }
  }

  func testConvolutionalModelWithBatchNormLearns() {
    let train = blobs(count: 240, seed: 3)
    let test = blobs(count: 90, seed: 4)
    let model = Architecture.digitsCNN.build(classCount: 3, seed: 0)
    _ = Trainer(TrainingConfiguration(epochs: 4, batchSize: 16, learningRate: 0.002, optimizer: .adam())).train(
      model, on: train)
    XCTAssertGreaterThan(Evaluator.accuracy(of: model, on: test), 0.95)
    // Training moved batch norm's running statistics away from their initial 0 and 1.
    XCTAssertNotEqual(model.parameter(named: "bn1.running_mean")!.value, .zeros([16]))
  }

  func testSeededTrainingIsReproducible() {
    let data = blobs(count: 120, seed: 5)
    func run() -> [Float] {
      let model = Architecture.digitsCNN.build(classCount: 3, seed: 11)
      _ = Trainer(TrainingConfiguration(epochs: 2, batchSize: 8, learningRate: 0.01, seed: 4)).train(model, on: data)
      return model.parameter(named: "fc2.weight")!.value.scalars
    }
    XCTAssertEqual(run(), run())
  }

  func testMasksSurviveTraining() {
    let data = blobs(count: 120, seed: 6)
    let model = Architecture.digitsMLP.build(classCount: 3, seed: 0)
    let weight = model.parameter(named: "fc1.weight")!
    let mask = Tensor<Float>(shape: weight.shape) { m in for i in 0..<m.count { m[i] = i % 3 == 0 ? 0 : 1 } }
    weight.mask = mask
    weight.applyMask()
    _ = Trainer(TrainingConfiguration(epochs: 2, batchSize: 8, learningRate: 0.05)).train(model, on: data)
    let values = weight.value.scalars
    XCTAssertTrue(stride(from: 0, to: values.count, by: 3).allSatisfy { values[$0] == 0 })
    XCTAssertTrue(values.enumerated().contains { $0.offset % 3 != 0 && $0.element != 0 })
  }

  func testFrozenParametersDoNotMove() {
    let data = blobs(count: 60, seed: 7)
    let model = Architecture.digitsMLP.build(classCount: 3, seed: 0)
    let fc1 = model.parameter(named: "fc1.weight")!
    fc1.isFrozen = true
    let before = fc1.value
    let head = model.parameter(named: "fc2.weight")!.value
    _ = Trainer(TrainingConfiguration(epochs: 1, batchSize: 8, learningRate: 0.05)).train(model, on: data)
    XCTAssertEqual(fc1.value, before)
    XCTAssertNotEqual(model.parameter(named: "fc2.weight")!.value, head)
  }

  func testSGDMomentumAndNesterovUpdates() {
    // Two steps with constant gradient g=1 from w=0, lr=0.1, μ=0.9:
    // plain: v1=1, w1=-0.1; v2=1.9, w2=-0.29. Nesterov: w1=-0.1·(1+0.9)=-0.19; v2=1.9, w2=-0.19-0.1·(1+1.71)=-0.461.
    for (nesterov, expected) in [(false, Float(-0.29)), (true, Float(-0.461))] {
      let p = Parameter(.zeros([1]))
      let optimizer = Optimizer(.sgd(momentum: 0.9, nesterov: nesterov))
      for _ in 0..<2 {
        p.grad = Tensor(shape: [1], scalars: [1])
        optimizer.step([p], learningRate: 0.1)
      }
      XCTAssertEqual(p.value.scalar, expected, accuracy: 1e-6)
    }
  }

  func testAdamAndAdamWUpdates() {
    // Adam's first step moves each weight by lr·sign(g) (bias-corrected m/√v = ±1).
    let p = Parameter(Tensor(shape: [2], scalars: [1, 1]))
    p.grad = Tensor(shape: [2], scalars: [0.5, -2])
    Optimizer(.adam()).step([p], learningRate: 0.01)
    XCTAssertEqual(p.value.scalars[0], 0.99, accuracy: 1e-5)
    XCTAssertEqual(p.value.scalars[1], 1.01, accuracy: 1e-5)
    // AdamW first shrinks the weight by lr·λ·w, then takes the same Adam step.
    let q = Parameter(Tensor(shape: [1], scalars: [2]))
    q.grad = Tensor(shape: [1], scalars: [1])
    Optimizer(.adamW(weightDecay: 0.1)).step([q], learningRate: 0.01)
    XCTAssertEqual(q.value.scalar, 2 - 0.01 * 0.1 * 2 - 0.01, accuracy: 1e-5)
    // SGD weight decay adds λw to the gradient.
    let r = Parameter(Tensor(shape: [1], scalars: [2]))
    r.grad = Tensor(shape: [1], scalars: [0])
    Optimizer(.sgd(momentum: 0, weightDecay: 0.5)).step([r], learningRate: 0.1)
    XCTAssertEqual(r.value.scalar, 2 - 0.1 * 0.5 * 2, accuracy: 1e-6)
  }

  func testLearningRateSchedules() {
    XCTAssertEqual(LearningRateSchedule.step(every: 2, gamma: 0.5).rate(base: 1, epoch: 3, totalEpochs: 10), 0.5)
    XCTAssertEqual(LearningRateSchedule.step(every: 2, gamma: 0.5).rate(base: 1, epoch: 4, totalEpochs: 10), 0.25)
    let cosine = LearningRateSchedule.cosine(minimum: 0.1)
    XCTAssertEqual(cosine.rate(base: 1, epoch: 0, totalEpochs: 5), 1, accuracy: 1e-6)
    XCTAssertEqual(cosine.rate(base: 1, epoch: 2, totalEpochs: 5), 0.55, accuracy: 1e-6)
    XCTAssertEqual(cosine.rate(base: 1, epoch: 4, totalEpochs: 5), 0.1, accuracy: 1e-6)
  }

  func testEarlyStoppingKeepsTheBestValidationEpoch() {
    let data = blobs(count: 200, seed: 8)
    let model = Architecture.digitsMLP.build(classCount: 3, seed: 0)
    // A learning rate this high makes validation accuracy peak early and then stall or fall.
    let report = Trainer(
      TrainingConfiguration(epochs: 40, batchSize: 16, learningRate: 0.05, validationFraction: 0.25, patience: 2)
    ).train(model, on: data)
    XCTAssertTrue(report.stoppedEarly)
    XCTAssertLessThan(report.epochs.count, 40)
    XCTAssertEqual(report.epochs.count - report.bestEpoch, 2)
    let best = report.epochs[report.bestEpoch - 1].validationAccuracy!
    XCTAssertEqual(report.epochs.compactMap(\.validationAccuracy).max(), best)
  }

  func testCancellationStopsAfterTheCurrentBatch() {
    let data = blobs(count: 64, seed: 9)
    var batches = 0
    let report = Trainer(TrainingConfiguration(epochs: 3, batchSize: 8)).train(
      Architecture.digitsMLP.build(classCount: 3), on: data, progress: { _ in batches += 1 },
      shouldContinue: { batches < 3 })
    XCTAssertTrue(report.cancelled)
    XCTAssertEqual(batches, 3)
  }
}
