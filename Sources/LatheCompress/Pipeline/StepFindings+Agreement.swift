import LatheTensor

extension StepFindings {
  /// Records how closely `model` follows the pipeline's input model on `test` (its first
  /// output). Left unset when the two cannot be compared: a transfer step's model scores other
  /// classes than the input model, so its outputs have another shape.
  mutating func compare(_ model: Model, withInput input: Model, on test: Dataset) {
    guard let first = try? ModelComparison.compare(model, with: input, on: test).first else { return }
    agreementWithInput = first.agreement
    meanKLWithInput = first.meanKL
  }
}
