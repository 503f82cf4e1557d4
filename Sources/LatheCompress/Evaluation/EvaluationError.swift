import LatheTensor

/// Why two models' outputs, or an output and its labels, cannot be compared.
public enum EvaluationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Output `output` of the candidate has another shape than the reference's.
  case shapeMismatch(output: Int, reference: [Int], candidate: [Int])
  /// The models return different numbers of outputs.
  case outputCountMismatch(reference: Int, candidate: Int)
  /// CTC decoding needs `[N, T, C]` scores.
  case notSequenceScores(shape: [Int])
  /// The CTC blank index is not one of the `classes` score columns.
  case blankOutOfRange(blank: Int, classes: Int)
  /// `labels` label sequences for `outputs` decoded ones.
  case labelCountMismatch(labels: Int, outputs: Int)
  /// The model `model` reads examples of shape `expects`; the data's examples hold `values` numbers.
  case inputShapeMismatch(model: String, expects: [Int], values: Int)
  /// The data holds no array for one of the model's extra inputs.
  case missingInput(model: String, reason: String)
  /// A node of the model does not fit the sizes it was fed (see `RunFailure`).
  case runFailed(RunFailure)

  public var description: String {
    switch self {
    case .shapeMismatch(let output, let reference, let candidate):
      return "output \(output): the model gives shape \(candidate), the reference \(reference); "
        + "only outputs of the same shape can be compared"
    case .outputCountMismatch(let reference, let candidate):
      return "the model has \(candidate) outputs, the reference \(reference); compare models with the same outputs"
    case .notSequenceScores(let shape):
      return "CTC decoding needs [N, T, classes] scores, the model gives \(shape)"
    case .blankOutOfRange(let blank, let classes):
      return "CTC blank index \(blank) is not one of the output's \(classes) classes (0..<\(classes))"
    case .labelCountMismatch(let labels, let outputs):
      return "\(labels) label sequences for \(outputs) examples; give one per example"
    case .inputShapeMismatch(let model, let expects, let values):
      return "\(model) reads examples of shape \(expects), but the data's examples hold \(values) values"
    case .missingInput(let model, let reason): return "\(model): \(reason)"
    case .runFailed(let failure): return failure.description
    }
  }
}
