import Foundation
import LatheIO
import LatheTensor

/// Which layers int8 hurts, and which to keep in fp32 so the model stays within a budget.
///
/// As AIMET's QuantAnalyzer and ONNX Runtime's `qdq_loss_debug` report it: each layer is
/// quantized alone and the model's first output compared with the unquantized model's on the
/// same examples (top-1 agreement, mean KL divergence, SQNR). No labels are needed, so it works
/// for any model, and it runs on training examples, never on the test split a step is scored on.
public enum QuantizationSensitivity {
  /// One layer quantized alone, against the model with nothing quantized.
  public struct Row: Sendable, Equatable {
    public var layer: String
    public var agreement: Double
    public var meanKL: Double
    public var sqnrDB: Double
  }

  /// What an automatic skip list found: the per-layer table (most sensitive first), the layers
  /// kept in fp32, and the agreement of the model with every other layer quantized.
  public struct SkipList: Sendable, Equatable {
    public var rows: [Row]
    public var skipped: [String]
    /// Top-1 agreement with the reference with every chosen layer quantized (no skips).
    public var agreementAllQuantized: Double
    /// The same with `skipped` kept in fp32.
    public var agreementWithSkips: Double
  }

  /// Turns `layers` of a model (a copy the caller owns) into their compressed form.
  public typealias Convert = (_ model: Model, _ layers: [String]) throws -> Void

  /// The unquantized model's outputs on the sensitivity examples, computed once: every trial is
  /// compared with them, so the reference model does not run again per layer.
  struct Reference {
    static let batchSize = 64
    let data: Dataset
    let batches: [(Range<Int>, [Tensor<Float>])]

    init(_ model: Model, on data: Dataset) throws {
      self.data = data
      var batches: [(Range<Int>, [Tensor<Float>])] = []
      try ModelOutputs.forEachBatch(of: [model], data: data, batchSize: Self.batchSize) { range, outputs in
        batches.append((range, outputs[0]))
      }
      self.batches = batches
    }

    /// The first output of `candidate` against the reference's.
    func compare(_ candidate: Model) throws -> OutputComparison.Result {
      var comparisons: [OutputComparison] = []
      for (range, reference) in batches {
        try comparisons.add(reference: reference, candidate: try ModelOutputs.outputs(of: candidate, for: data, range))
      }
      guard let first = comparisons.first else { throw StepFailure("sensitivity: the model has no outputs") }
      return first.result
    }
  }

  /// Each of `layers` quantized alone, most sensitive (largest mean KL) first.
  public static func rows(
    of model: Model, layers: [String], convert: Convert, data: Dataset, context: StepContext? = nil,
    progress: ClosedRange<Double> = 0...1
  ) throws -> [Row] {
    try rows(
      of: model, layers: layers, convert: convert, reference: Reference(model, on: data), context: context,
      progress: progress)
  }

  static func rows(
    of model: Model, layers: [String], convert: Convert, reference: Reference, context: StepContext?,
    progress: ClosedRange<Double>
  ) throws -> [Row] {
    var rows: [Row] = []
    for (index, layer) in layers.enumerated() {
      try context?.checkCancellation()
      let trial = model.copy()
      try convert(trial, [layer])
      let result = try reference.compare(trial)
      rows.append(Row(layer: layer, agreement: result.agreement, meanKL: result.meanKL, sqnrDB: result.sqnrDB))
      let done = Double(index + 1) / Double(max(layers.count, 1))
      context?.report(
        progress.lowerBound + done * (progress.upperBound - progress.lowerBound), "sensitivity of \(layer)")
    }
    return rows.sorted { ($0.meanKL, $1.layer) > ($1.meanKL, $0.layer) }
  }

  /// The fewest most-sensitive layers to keep in fp32 so that the model with every other layer
  /// of `layers` quantized agrees with `model` on at least `1 - maxAgreementDrop` of `data`.
  ///
  /// Layers are ranked by their lone-layer KL divergence; the skip list is the shortest prefix
  /// of that ranking within budget, found by bisection (log2(n) evaluations of the whole
  /// model rather than n), which assumes keeping one more sensitive layer in fp32 never makes
  /// the model worse. When nothing is within budget every layer is skipped.
  public static func skipList(
    for model: Model, layers: [String], maxAgreementDrop: Double, convert: Convert, data: Dataset,
    context: StepContext? = nil
  ) throws -> SkipList {
    let reference = try Reference(model, on: data)
    func agreement(skipping skipped: ArraySlice<String>) throws -> Double {
      let trial = model.copy()
      let skip = Set(skipped)
      try convert(trial, layers.filter { !skip.contains($0) })
      return try reference.compare(trial).agreement
    }
    let target = 1 - maxAgreementDrop
    let all = try agreement(skipping: [])
    guard all < target else {
      return SkipList(rows: [], skipped: [], agreementAllQuantized: all, agreementWithSkips: all)
    }
    let rows = try Self.rows(
      of: model, layers: layers, convert: convert, reference: reference, context: context, progress: 0.1...0.8)
    let ranked = rows.map(\.layer)
    // Invariant: skipping `ranked[..<high]` is within budget (all of them is: nothing is
    // quantized); skipping `ranked[..<low]` is not.
    var low = 0
    var high = ranked.count
    var withSkips = 1.0
    while high - low > 1 {
      try context?.checkCancellation()
      let middle = (low + high) / 2
      let measured = try agreement(skipping: ranked[..<middle])
      context?.report(
        0.8 + 0.2 * Double(ranked.count - (high - low)) / Double(ranked.count),
        "skipping " + Wording.count(middle, "layer"))
      if measured >= target {
        high = middle
        withSkips = measured
      } else {
        low = middle
      }
    }
    return SkipList(
      rows: rows, skipped: Array(ranked[..<high]), agreementAllQuantized: all, agreementWithSkips: withSkips)
  }

  /// The table as CSV, most sensitive first (what the step writes beside its model).
  public static func csv(_ rows: [Row], skipped: [String] = []) -> String {
    let skip = Set(skipped)
    var text = "layer,agreement,mean_kl,sqnr_db,kept_fp32\n"
    for row in rows {
      text += String(
        format: "%@,%.4f,%.6g,%.2f,%@\n", row.layer, row.agreement, row.meanKL, row.sqnrDB,
        skip.contains(row.layer) ? "yes" : "no")
    }
    return text
  }
}
