import Foundation
import LatheIO
import LatheTensor

/// Pruning sensitivity analysis, as Distiller does it: each layer alone is pruned by magnitude
/// to a sweep of sparsities and the model evaluated; layers whose accuracy barely moves can be
/// pruned hard. The chosen per-layer targets feed a later `prune` step (use_sensitivity).
public struct SensitivityAnalysis: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "sensitivity",
    summary: "Prune each layer alone at a sweep of sparsities; pick per-layer targets within an accuracy budget.",
    parameters: [
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

/// The sweep a sensitivity analysis runs and the accuracy budget its targets keep within.
public struct SensitivityAnalysisConfig: TechniqueConfig, Equatable {
  /// Sparsities tried for every layer, each strictly between 0 and 1.
  public var sparsities: [Double]
  /// Accuracy points a layer may lose at its target.
  public var maxDrop: Double
  /// Test examples per evaluation.
  public var evalSamples: Int

  /// Throws unless `sparsities` is a non-empty list of fractions between 0 and 1.
  public init(
    sparsities: [Double] = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95], maxDrop: Double = 1.0, evalSamples: Int = 1000,
    source: SettingSource = .code("sensitivity")
  ) throws {
    guard !sparsities.isEmpty, sparsities.allSatisfy({ $0 > 0 && $0 < 1 }) else {
      throw source.error("sparsities", "expected a list of fractions between 0 and 1")
    }
    self.sparsities = sparsities
    self.maxDrop = maxDrop
    self.evalSamples = evalSamples
  }

  public init(_ p: StepParameters) throws {
    try self.init(
      sparsities: p.doubles("sparsities"), maxDrop: p.double("max_drop"), evalSamples: p.int("eval_samples"),
      source: p.source)
  }
}
