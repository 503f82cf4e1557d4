import Foundation

/// Mini-batch training of a model on a dataset.
///
/// The loss defaults to cross-entropy on the labels; distillation and other objectives pass
/// their own `loss` closure, which gets the logits, the batch labels and the batch inputs.
public struct Trainer {
  public typealias LossFunction = (_ logits: Variable, _ labels: [Int], _ inputs: Tensor<Float>) -> Variable

  public var configuration: TrainingConfiguration
  public var loss: LossFunction?
  /// Runs after every optimizer step (weight sharing re-projects weights onto centroids here).
  public var afterStep: (() -> Void)?
  /// Sees every node of each training forward pass (feature distillation reads features here).
  public var observe: ((_ node: Node, _ inputs: [Variable], _ output: Variable) -> Void)?
  /// Trained alongside the model's own parameters (e.g. a distillation projection).
  public var extraParameters: [Parameter] = []

  public init(_ configuration: TrainingConfiguration, loss: LossFunction? = nil) {
    self.configuration = configuration
    self.loss = loss
  }

  /// Trains `model` in place. `progress` is called after every batch; returning false from
  /// `shouldContinue` stops after the current batch (the model keeps what it learned so far).
  public func train(
    _ model: Model, on data: Dataset, progress: ((TrainingProgress) -> Void)? = nil,
    shouldContinue: (() -> Bool)? = nil
  ) -> TrainingReport {
    let c = configuration
    var generator = SeededGenerator(seed: c.seed)
    var order = Array(0..<data.count)
    var training = data
    var validation: Dataset?
    if c.validationFraction > 0 {
      generator.shuffle(&order)
      let held = max(1, Int(Float(data.count) * c.validationFraction))
      validation = data.subset(Array(order.prefix(held)), name: data.name + "-validation")
      training = data.subset(Array(order.dropFirst(held)))
    }
    let optimizer = Optimizer(c.optimizer)
    let parameters = model.trainableParameters + extraParameters
    let batches = (training.count + c.batchSize - 1) / c.batchSize
    var records: [EpochRecord] = []
    var best: (accuracy: Float, epoch: Int, state: [Tensor<Float>])?
    var cancelled = false
    var stoppedEarly = false
    let start = Date()
    var indices = Array(0..<training.count)

    epochs: for epoch in 0..<c.epochs {
      let epochStart = Date()
      generator.shuffle(&indices)
      var lossSum: Float = 0
      var correct = 0
      // Predictions scored: one per example, or one per position for text.
      var scored = 0
      var seen = 0
      for b in 0..<batches {
        let picked = Array(indices[(b * c.batchSize)..<min((b + 1) * c.batchSize, training.count)])
        let batch = training.subset(picked)
        let rate = c.schedule.rate(
          base: c.learningRate, epoch: epoch, totalEpochs: c.epochs, within: Float(b) / Float(batches))
        let (batchLoss, batchCorrect, batchScored) = trainStep(model, batch, generator: &generator)
        for parameter in parameters { parameter.collectGradient() }
        optimizer.step(parameters, learningRate: rate)
        afterStep?()
        lossSum += batchLoss * Float(picked.count)
        correct += batchCorrect
        scored += batchScored
        seen += picked.count
        progress?(
          TrainingProgress(
            epoch: epoch + 1, epochs: c.epochs, batch: b + 1, batches: batches, loss: lossSum / Float(seen),
            accuracy: Float(correct) / Float(max(scored, 1)), learningRate: rate,
            elapsedSeconds: Date().timeIntervalSince(start))
        )
        if let shouldContinue, !shouldContinue() {
          cancelled = true
          break epochs
        }
      }
      var record = EpochRecord(
        epoch: epoch + 1, loss: lossSum / Float(max(seen, 1)), trainAccuracy: Float(correct) / Float(max(scored, 1)),
        validationAccuracy: nil, seconds: Date().timeIntervalSince(epochStart))
      if let validation {
        let accuracy = Evaluator.accuracy(of: model, on: validation)
        record.validationAccuracy = accuracy
        if best == nil || accuracy > best!.accuracy {
          best = (accuracy, epoch + 1, model.namedParameters.map(\.parameter.value))
        } else if epoch + 1 - best!.epoch >= c.patience {
          records.append(record)
          stoppedEarly = true
          break
        }
      }
      records.append(record)
    }
    // Early stopping keeps the epoch that validated best, not the last one.
    if let best, !cancelled {
      for (parameter, value) in zip(model.namedParameters.map(\.parameter), best.state) { parameter.value = value }
    }
    return TrainingReport(
      epochs: records, bestEpoch: best?.epoch ?? records.count, stoppedEarly: stoppedEarly, cancelled: cancelled)
  }

  /// Forward and backward for one batch; returns the batch loss, the correct predictions and
  /// how many were scored (examples, or positions for text). The graph is released on return,
  /// before the optimizer touches the weights.
  private func trainStep(_ model: Model, _ batch: Dataset, generator: inout SeededGenerator) -> (Float, Int, Int) {
    var context = ForwardContext(isTraining: true, seed: generator.next())
    var logits = model.forward(Variable(batch.inputs), context: &context, observe: observe)
    var labels = batch.labels
    // A language model scores every position: [batch, sequence, vocabulary] logits become
    // rows of one classification each, against the token that follows.
    if let next = batch.nextTokens, logits.shape.count == 3 {
      logits = logits.reshaped([logits.shape[0] * logits.shape[1], logits.shape[2]])
      labels = next.scalars.map { Int($0) }
    }
    let objective =
      loss?(logits, labels, batch.inputs)
      ?? logits.crossEntropy(labels: labels, labelSmoothing: configuration.labelSmoothing)
    objective.backpropagate()
    let predictions = logits.value.argmaxRows()
    let correct = zip(predictions, labels).filter { $0 == $1 }.count
    return (objective.value.scalar, correct, labels.count)
  }
}

/// Accuracy and predictions of a model on a dataset, in evaluation mode.
public enum Evaluator {
  /// Top-1 accuracy in [0, 1].
  public static func accuracy(of model: Model, on data: Dataset, batchSize: Int = 256) -> Float {
    if data.nextTokens != nil { return Float(TextScore.measure(model, on: data).tokenAccuracy) }
    let predicted = predictions(of: model, on: data, batchSize: batchSize)
    let correct = zip(predicted, data.labels).filter { $0 == $1 }.count
    return data.count == 0 ? 0 : Float(correct) / Float(data.count)
  }

  /// The predicted class of every example.
  public static func predictions(of model: Model, on data: Dataset, batchSize: Int = 256) -> [Int] {
    var result: [Int] = []
    result.reserveCapacity(data.count)
    var start = 0
    while start < data.count {
      let end = min(start + batchSize, data.count)
      result += model.predict(feeds: model.feeds(data, start..<end))[0].argmaxRows()
      start = end
    }
    return result
  }
}
