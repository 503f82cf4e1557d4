import ArgumentParser
import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Top-1 accuracy of a model on a dataset's test split.")

    @Argument(help: "Model file (.safetensors or .onnx).") var model: String
    @Option(name: .long, help: "Dataset name or path; defaults to the one the model was trained on.") var dataset:
      String?
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func run() throws {
      try reportingErrors {
        let workspace = try Workspace.open(model: model, dataset: dataset)
        let (network, name, test) = (workspace.model, workspace.datasetName, workspace.data.test)
        let start = Date()
        let predictions = Evaluator.predictions(of: network, on: test)
        let seconds = Date().timeIntervalSince(start)
        let correct = zip(predictions, test.labels).filter { $0 == $1 }.count
        let accuracy = test.count == 0 ? 0 : Float(correct) / Float(test.count)
        if json {
          try printJSON(
            EvalResult(
              model: model, dataset: name, accuracy: accuracy, samples: test.count, correct: correct, seconds: seconds))
        } else {
          print(
            String(format: "%@ on %@: top-1 accuracy %.2f%% (%d/%d)", model, name, accuracy * 100, correct, test.count))
        }
      }
    }
  }
}

struct EvalResult: Encodable {
  var model: String
  var dataset: String
  var accuracy: Float
  var samples: Int
  var correct: Int
  var seconds: Double
}
