import ArgumentParser
import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train a built-in architecture on a dataset and save it as a model file.",
      discussion: "Architectures: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")

    @Option(name: .long, help: "Architecture to train.") var model: String
    @Option(
      name: .long, help: "Bundled dataset name (mnist-5k, digits, kjv) or a path to IDX files, a CSV or text (.txt).")
    var dataset: String
    @Option(name: .long, help: "Passes over the training set.") var epochs: Int = 10
    @Option(name: .long, help: "Seed for initialisation, shuffling and dropout.") var seed: UInt64 = 0
    @Option(name: .long, help: "Where to write the model (.safetensors).") var output: String
    @Option(name: .long, help: "Examples per batch.") var batchSize: Int = 32
    @Option(name: .long, help: "Train on this many training examples, picked with the seed (default: all).")
    var maxExamples: Int?
    @Option(name: [.customLong("lr"), .long], help: "Base learning rate.") var learningRate: Float = 0.01
    @Option(name: .long, help: "sgd, nesterov, adam or adamw.") var optimizer: String = "sgd"
    @Option(name: .long, help: "Momentum for sgd and nesterov.") var momentum: Float = 0.9
    @Option(name: .long, help: "Weight decay (L2 for sgd/adam, decoupled for adamw).") var weightDecay: Float?
    @Option(name: .long, help: "constant, step, cosine or warmup-cosine.") var schedule: String = "constant"
    @Option(name: .long, help: "Epochs between learning-rate drops for the step schedule.") var stepEvery: Int = 10
    @Option(name: .long, help: "Label smoothing for the cross-entropy loss.") var labelSmoothing: Float = 0
    @Option(name: .long, help: "Fraction of the training set held out for early stopping (0 = off).")
    var validation: Float = 0
    @Option(name: .long, help: "Epochs without validation improvement before stopping.") var patience: Int = 5
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
      guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
      guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
      guard learningRate > 0 else { throw ValidationError("--lr must be positive") }
      guard (0..<1).contains(validation) else { throw ValidationError("--validation must be in [0, 1)") }
      guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1)") }
    }

    func run() throws {
      try reportingErrors {
        let architecture = try Architecture.named(model)
        let data = try WorkspaceSources.dataset(dataset)
        let network = architecture.build(classCount: max(data.train.classCount, 10), seed: seed)
        let fitted = try data.fitted(to: network, modelName: model)
        var (train, test) = (fitted.train, fitted.test)
        if let maxExamples, maxExamples < train.count {
          var order = Array(0..<train.count)
          var generator = SeededGenerator(seed: seed)
          generator.shuffle(&order)
          train = train.subset(Array(order.prefix(maxExamples)))
        }
        guard train.count > 0 else {
          throw CommandFailure(
            "\(dataset) has no training examples (an .npz without x_train, or an ImageFolder without train/)")
        }
        guard var kind = OptimizerKind.named(optimizer, weightDecay: weightDecay) else {
          throw CommandFailure("unknown optimizer \"\(optimizer)\"; use sgd, nesterov, adam or adamw")
        }
        if case .sgd(_, let nesterov, let decay) = kind {
          kind = .sgd(momentum: momentum, nesterov: nesterov, weightDecay: decay)
        }
        guard let lrSchedule = LearningRateSchedule.named(schedule, stepEvery: stepEvery) else {
          throw CommandFailure("unknown schedule \"\(schedule)\"; use constant, step, cosine or warmup-cosine")
        }
        let configuration = TrainingConfiguration(
          epochs: epochs, batchSize: batchSize, learningRate: learningRate, optimizer: kind, schedule: lrSchedule,
          labelSmoothing: labelSmoothing, seed: seed, validationFraction: validation, patience: patience)
        let bar = ProgressLine(enabled: !json)
        let report = Trainer(configuration).train(network, on: train) { bar.show($0) }
        let accuracy = Evaluator.accuracy(of: network, on: test)
        let text = test.nextTokens == nil ? nil : TextScore.measure(network, on: test)
        let seconds = report.epochs.reduce(0) { $0 + $1.seconds }
        // Keeps what the architecture recorded (a transformer's sizes and tokenizer).
        network.metadata.merge([
          "dataset": dataset, "epochs": "\(report.epochs.count)", "seed": "\(seed)",
          "optimizer": kind.name, "learning_rate": "\(learningRate)", "batch_size": "\(batchSize)",
          "schedule": schedule, "test_accuracy": String(format: "%.4f", accuracy),
          "command": "lathe " + CommandLine.arguments.dropFirst().joined(separator: " "),
        ]) { $1 }
        if let text {
          network.metadata["test_perplexity"] = String(format: "%.4f", text.perplexity)
          network.metadata["test_tokens"] = "\(text.tokens)"
        }
        let url = URL(fileURLWithPath: output)
        try ModelFile.save(network, to: url)
        let size = url.fileSizeOnDisk
        if json {
          try printJSON(
            TrainResult(
              model: model, dataset: dataset, output: output, accuracy: accuracy, samples: test.count,
              epochs: report.epochs.map {
                .init(
                  epoch: $0.epoch, loss: $0.loss, trainAccuracy: $0.trainAccuracy,
                  validationAccuracy: $0.validationAccuracy, seconds: $0.seconds)
              }, bestEpoch: report.bestEpoch, stoppedEarly: report.stoppedEarly, trainingSeconds: seconds,
              parameters: network.parameterCount, sizeBytes: size, peakMemoryBytes: peakResidentBytes(),
              perplexity: text?.perplexity))
        } else {
          print(
            String(
              format: "%@: test accuracy %.2f%% on %d examples; %d epochs in %.1f s; saved %@ (%d bytes)", model,
              accuracy * 100, test.count, report.epochs.count, seconds, output, size))
          if let text {
            print(
              String(
                format: "test perplexity %.3f over %d tokens (%.4f nats per token)", text.perplexity, text.tokens,
                text.meanNLL))
          }
          if report.stoppedEarly { print("stopped early; kept epoch \(report.bestEpoch), the best on validation") }
        }
      }
    }
  }
}

struct TrainResult: Encodable {
  struct Epoch: Encodable {
    var epoch: Int
    var loss: Float
    var trainAccuracy: Float
    var validationAccuracy: Float?
    var seconds: Double
  }
  var model: String
  var dataset: String
  var output: String
  var accuracy: Float
  var samples: Int
  var epochs: [Epoch]
  var bestEpoch: Int
  var stoppedEarly: Bool
  var trainingSeconds: Double
  var parameters: Int
  var sizeBytes: Int
  var peakMemoryBytes: Int
  /// For a language model: perplexity on the test text.
  var perplexity: Double?
}
