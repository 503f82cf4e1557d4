import Foundation
import LatheTensor

/// NegativeLogLikelihoodLoss onto `ONNXNegativeLogLikelihoodLoss`, and SoftmaxCrossEntropyLoss
/// as LogSoftmax over the class axis followed by the same layer: the log-softmax is the
/// optional second output `log_prob`, so both outputs come from layers Lathe already has.
extension ONNXConverters {
  /// Every operator `loss` converts; `supported` lists them too (a test keeps the two agreeing).
  static let lossOps: Set<String> = ["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"]

  static func loss(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let x = try n.required(0, "scores")
    let target = try n.required(1, "labels")
    let weight = try n.input(2)
    let shape = n.shape(x)
    guard shape.count >= 2 else { throw NodeError("scores \(shape) need a batch and a class axis ([N, C, ...])") }
    let name = try a.string("reduction", "mean")
    guard let reduction = ONNXNegativeLogLikelihoodLoss.Reduction(rawValue: name) else {
      throw NodeError("reduction \"\(name)\" is not none, sum or mean")
    }
    let ignoreIndex = try a.int("ignore_index", Int.min)
    let layer = ONNXNegativeLogLikelihoodLoss(
      reduction: reduction, ignoreIndex: ignoreIndex == Int.min ? nil : ignoreIndex)
    // Constant targets are checked here, where a bad index can be reported; run-time ones
    // give NaN (see the layer).
    if let t = target.constant {
      let classes = shape[1]
      for k in t.ints where k != layer.ignoreIndex && !(0..<classes).contains(k) {
        throw NodeError("target \(k) is not a class index in 0..<\(classes) nor ignore_index")
      }
    }
    var scores = x
    if n.node.opType == "SoftmaxCrossEntropyLoss" {
      scores = try n.emit(
        ONNXOp(.logSoftmax(axis: 1, coerced: false)), [x], hints: [n.hint(0)], suffix: "_log_prob")
      n.define(1, scores)
    }
    let inputs = [scores, target] + (weight.map { [$0] } ?? [])
    let hints = [n.hint(0), n.hint(1)] + (weight == nil ? [] : [n.hint(2)])
    n.define(0, try n.emit(layer, inputs, hints: hints))
  }
}
