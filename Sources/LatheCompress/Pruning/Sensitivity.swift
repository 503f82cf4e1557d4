import Foundation
import LatheIO
import LatheTensor

/// Per-layer sensitivity analysis.
///
/// `mode: prune`, as Distiller does it: each layer alone is pruned by magnitude to a sweep of
/// sparsities and the model evaluated; layers whose accuracy barely moves can be pruned hard.
/// The chosen per-layer targets feed a later `prune` step (use_sensitivity).
///
/// `mode: int8`, as AIMET's QuantAnalyzer does it: each layer alone is quantized to int8 and the
/// model's output compared with the step's input model (agreement, KL divergence, SQNR); no
/// labels needed. A report only: `quantize` with `max_agreement_drop` acts on the same table.
public struct SensitivityAnalysis: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "sensitivity",
    summary: "Prune (or quantize) each layer alone; pick per-layer targets within an accuracy budget.",
    parameters: [
      ParameterDescriptor(
        "mode", .choice(SensitivityAnalysisConfig.Mode.allCases.map(\.rawValue)), default: .string("prune"),
        help: "prune: a sparsity sweep per layer; int8: each layer alone in int8, compared with the input model"),
      ParameterDescriptor(
        "sparsities", .list, default: .list([0.3, 0.5, 0.7, 0.8, 0.9, 0.95].map { .float($0) }),
        help: "sparsities tried for every layer"),
      ParameterDescriptor(
        "max_drop", .float(0...100), default: .float(1.0), help: "accuracy points a layer may lose at its target"),
      ParameterDescriptor(
        "eval_samples", .int(1...1_000_000), default: .int(1000), help: "test examples per evaluation"),
    ])

  public let config: SensitivityAnalysisConfig

  public init(_ config: SensitivityAnalysisConfig) { self.config = config }

  /// Accuracy of the model with only `layer` pruned to each sparsity.
  public static func sweep(
    _ model: Model, layers: [String], sparsities: [Double], test: Dataset, context: StepContext? = nil
  ) throws -> [String: [(Double, Float)]] {
    var table: [String: [(Double, Float)]] = [:]
    let total = Double(layers.count * sparsities.count)
    var done = 0.0
    for layer in layers {
      for sparsity in sparsities {
        try context?.checkCancellation()
        let trial = model.copy()
        let weights = MagnitudePruning.prunableWeights(of: trial).filter { $0.layer == layer }
        MagnitudePruning.pruneLayers(weights) { _ in sparsity }
        table[layer, default: []].append((sparsity, Evaluator.accuracy(of: trial, on: test)))
        done += 1
        context?.report(done / total, "\(layer) at \(Int(sparsity * 100))%")
      }
    }
    return table
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    if c.mode == .int8 { return try applyInt8(to: model, context: context) }
    let test = context.data.test.slice(0..<min(c.evalSamples, context.data.test.count))
    let baseline = Evaluator.accuracy(of: model, on: test)
    let layers = MagnitudePruning.prunableWeights(of: model).map(\.layer)
    let sparsities = c.sparsities.sorted()
    let table = try Self.sweep(model, layers: layers, sparsities: sparsities, test: test, context: context)
    let budget = Float(c.maxDrop / 100)
    var targets: [String: Double] = [:]
    var csv = "layer,sparsity,accuracy,drop_points\n"
    for layer in layers {
      let rows = table[layer] ?? []
      for (s, a) in rows { csv += String(format: "%@,%.3f,%.4f,%.2f\n", layer, s, a, (baseline - a) * 100) }
      // The largest sparsity still within budget (0 when even the mildest costs too much).
      targets[layer] = rows.filter { baseline - $0.1 <= budget }.map(\.0).max() ?? 0
    }
    context.state.sensitivityTargets = SensitivityTargets(targets)
    context.findings.sensitivityTargets = SensitivityTargets(targets)
    if let folder = context.outputDirectory {
      try AtomicFile.write(csv, to: folder.appendingPathComponent("sensitivity.csv"))
    }
    return model
  }
}

extension SensitivityAnalysis {
  /// Each quantizable layer alone in int8 (per-channel weights, min-max calibration), measured
  /// on training examples against the unquantized model; the table goes to the findings and to
  /// `sensitivity.csv`. The model is returned unchanged.
  func applyInt8(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let quantize = Int8Quantize(Int8QuantizeConfig(source: c.source))
    let plan = try quantize.prepare(model, context: context)
    let data = context.data.train.slice(0..<min(c.evalSamples, context.data.train.count))
    let rows = try QuantizationSensitivity.rows(
      of: model, layers: plan.layers, convert: plan.convert, data: data, context: context, progress: 0.1...1)
    context.findings.int8Sensitivity = rows
    if let folder = context.outputDirectory {
      try AtomicFile.write(QuantizationSensitivity.csv(rows), to: folder.appendingPathComponent("sensitivity.csv"))
    }
    return model
  }
}

/// The sweep a sensitivity analysis runs and the accuracy budget its targets keep within.
public struct SensitivityAnalysisConfig: TechniqueConfig, Equatable {
  /// What is done to each layer alone.
  public enum Mode: String, CaseIterable, Sendable {
    case prune
    case int8
  }

  public var mode: Mode
  /// Sparsities tried for every layer, each strictly between 0 and 1.
  public var sparsities: [Double]
  /// Accuracy points a layer may lose at its target.
  public var maxDrop: Double
  /// Test examples per evaluation (training examples in int8 mode).
  public var evalSamples: Int
  public var source: SettingSource

  /// Throws unless `sparsities` is a non-empty list of fractions between 0 and 1.
  public init(
    mode: Mode = .prune, sparsities: [Double] = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95], maxDrop: Double = 1.0,
    evalSamples: Int = 1000, source: SettingSource = .code("sensitivity")
  ) throws {
    guard !sparsities.isEmpty, sparsities.allSatisfy({ $0 > 0 && $0 < 1 }) else {
      throw source.error("sparsities", "expected a list of fractions between 0 and 1")
    }
    self.mode = mode
    self.sparsities = sparsities
    self.source = source
    self.maxDrop = maxDrop
    self.evalSamples = evalSamples
  }

  public init(_ p: StepParameters) throws {
    try self.init(
      mode: Mode(rawValue: p.string("mode"))!, sparsities: p.doubles("sparsities"), maxDrop: p.double("max_drop"),
      evalSamples: p.int("eval_samples"),
      source: p.source)
  }
}
