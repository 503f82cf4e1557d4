import ArgumentParser
import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure a model on a dataset's test split: accuracy, agreement with a reference, CTC decoding.",
      discussion: """
        With labels and [N, classes] outputs: top-1 accuracy. On text (a language model): next-token \
        accuracy and perplexity over every position. With --reference: per output, top-1 \
        agreement, KL divergence (mean and p99), cosine similarity, max error and SQNR against the \
        reference model's outputs on the same inputs; this needs no labels. With --ctc: [N, T, classes] \
        outputs decoded greedily (repeats collapsed, blanks dropped), scored by exact match and \
        character error rate against --ctc-labels and against the reference's decoding.
        """)

    @Argument(help: "Model file (.safetensors or .onnx).") var model: String
    @Option(name: .long, help: "Dataset name or path; defaults to the one the model was trained on.") var dataset:
      String?
    @Option(name: .long, help: "Compare with this model's outputs on the same inputs (needs no labels).")
    var reference: String?
    @Flag(name: .long, help: "Decode [N, T, classes] outputs as CTC and score the label sequences.") var ctc = false
    @Option(name: .long, help: "The CTC blank class.") var blank = 0
    @Option(
      name: .long, help: "Expected CTC label sequences: one line per example, class indices separated by spaces.")
    var ctcLabels: String?
    @Option(
      name: .long,
      help: "Write the model's first output on the test split to this .npy file (sentence embeddings, logits).")
    var saveOutputs: String?
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func run() throws {
      try reportingErrors {
        let workspace = try openWorkspace()
        let (network, name, test) = (workspace.model, workspace.datasetName, workspace.data.test)
        let samples = test.inputs.shape.first ?? 0
        if let saveOutputs {
          try save(network, test, to: saveOutputs)
          // With nothing to measure against, the outputs are what was asked for.
          if test.labels.isEmpty && reference == nil && ctcLabels == nil { return }
        }
        let expected = try ctcLabels.map { try LabelSequenceFile.read(URL(fileURLWithPath: $0)) }
        try checkMeasurable(
          dataset: name, labelled: !test.labels.isEmpty || test.nextTokens != nil, samples: samples, expected: expected)
        let referenceModel = try reference.map { try ModelOpener.open($0) }
        var measures = EvalMeasures(
          labels: test.labels, expected: expected, blank: ctc || expected != nil ? blank : nil,
          hasReference: referenceModel != nil)
        let start = Date()
        try ModelOutputs.forEachBatch(of: [network] + (referenceModel.map { [$0] } ?? []), data: test) {
          range, outputs in
          try measures.add(range, outputs[0], reference: outputs.count > 1 ? outputs[1] : nil)
        }
        var result = measures.result(
          model: model, dataset: name, reference: reference, samples: samples,
          seconds: Date().timeIntervalSince(start))
        // Text: every position's next token, scored as accuracy and perplexity.
        if test.nextTokens != nil {
          let text = try RunFailure.checking(file: network.sourceFile) { TextScore.measure(network, on: test) }
          result.accuracy = Float(text.tokenAccuracy)
          result.perplexity = text.perplexity
          result.tokens = text.tokens
        }
        if json {
          try printJSON(result)
        } else {
          for line in result.lines() { print(line) }
        }
      }
    }

    /// The model's first output over `data`, batch after batch, as one float32 .npy file.
    private func save(_ network: Model, _ data: Dataset, to path: String) throws {
      var values: [Float] = []
      var shape: [Int] = []
      try ModelOutputs.forEachBatch(of: [network], data: data) { _, outputs in
        let output = outputs[0][0]
        shape = [data.count] + output.shape.dropFirst()
        values += output.contiguous().scalars
      }
      let url = URL(fileURLWithPath: path)
      try AtomicFile.createFolder(url.deletingLastPathComponent())
      try NumpyArray(shape: shape, values: values).write(to: url)
      print("wrote \(path): outputs \(shape)")
    }

    /// Model and data. Plain `eval` scores a classifier; measures that need no argmax over
    /// classes (a reference, CTC) take a model of any outputs.
    private func openWorkspace() throws -> Workspace {
      let workspace = try Workspace.open(model: model, dataset: dataset, classifier: false)
      guard reference == nil && !ctc && ctcLabels == nil && saveOutputs == nil else { return workspace }
      do {
        // The inputs fit (checked above): what can still be wrong is the outputs or the labels.
        _ = try workspace.data.test.fitted(to: workspace.model, modelName: model)
        return workspace
      } catch {
        throw CommandFailure(
          "\(error); for other models pass --reference MODEL to compare their outputs with another model's "
            + "(agreement, KL divergence, cosine, max error, SQNR), or --ctc for [N, T, classes] sequence scores")
      }
    }

    /// Fails, saying what could be measured and how, when nothing asked for can be.
    private func checkMeasurable(dataset: String, labelled: Bool, samples: Int, expected: [[Int]]?) throws {
      if let expected, expected.count != samples, let ctcLabels {
        throw CommandFailure(
          "\(ctcLabels): \(expected.count) label sequences for \(samples) test examples of \(dataset); "
            + "give one line per example")
      }
      if (ctc || expected != nil) && reference == nil && expected == nil {
        throw CommandFailure(
          "--ctc scores decoded sequences against --ctc-labels FILE (one line of class indices per example) "
            + "or against a --reference MODEL's decoding; give one of them")
      }
      if !labelled && reference == nil && expected == nil {
        throw CommandFailure(
          "\(dataset) has no labels, so \(model) cannot be scored on its own; pass --reference MODEL to compare "
            + "its outputs with another model's (agreement, KL divergence, cosine, max error, SQNR), or "
            + "--ctc --ctc-labels FILE for a sequence model")
      }
    }
  }
}
