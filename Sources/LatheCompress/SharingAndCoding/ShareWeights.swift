import Foundation
import LatheTensor

/// k-means weight sharing with centroid fine-tuning (Deep Compression, stage 2).
public struct ShareWeights: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "weight-sharing",
    summary: "Cluster each layer's weights into 2^bits shared values (k-means), then fine-tune the centroids.",
    parameters: [
      ParameterDescriptor(
        "bits", .perLayerInt(1...8), default: .int(5), help: "index bits per weight; number or per layer"),
      ParameterDescriptor(
        "init", .choice(WeightSharing.Initialization.allCases.map(\.rawValue)), default: .string("linear"),
        help: "centroid initialisation (linear works best, Han et al.)"),
    ] + TrainingSettings.descriptors(epochs: 2, learningRate: 0.005), needsTrainableModel: true)

  public let config: ShareWeightsConfig

  public init(_ config: ShareWeightsConfig) { self.config = config }

  /// With a teacher the step learns the teacher's outputs, so a set without labels will do.
  public var needsLabels: Bool { config.training.needsLabels }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let weights = MagnitudePruning.prunableWeights(of: model)
    let bits = try c.source.resolveLayers("bits", c.bits, allowed: weights.map(\.layer))
    var shared: [Parameter] = []
    for (index, (layer, parameter)) in weights.enumerated() {
      guard let b = bits?.value(for: layer) else { continue }
      try context.checkCancellation()
      context.report(0.3 * Double(index) / Double(weights.count), "clustering \(layer) into \(1 << b) values")
      WeightSharing.share(
        parameter, count: 1 << b, initialization: c.initialization, seed: c.training.configuration.seed)
      shared.append(parameter)
    }
    if c.training.configuration.epochs > 0 {
      try c.training.train(
        model, on: context.data.train, context: context, from: 0.3, label: "centroid fine-tuning",
        afterStep: { shared.forEach(WeightSharing.reproject) })
    }
    return model
  }
}

/// How many shared values each layer gets, how they start, and the centroid fine-tuning.
public struct ShareWeightsConfig: TechniqueConfig {
  /// Index bits per weight (2^bits shared values), for every layer or by layer.
  public var bits: PerLayer<Int>?
  public var initialization: WeightSharing.Initialization
  /// Centroid fine-tuning (none when epochs is 0); its seed also seeds random initialization.
  public var training: TrainingSettings
  public var source: SettingSource

  public init(
    bits: PerLayer<Int>? = .all(5), initialization: WeightSharing.Initialization = .linear,
    training: TrainingSettings = .defaults(epochs: 2, learningRate: 0.005),
    source: SettingSource = .code("weight-sharing")
  ) {
    self.bits = bits
    self.initialization = initialization
    self.training = training
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    self.init(
      bits: p.perLayerInt("bits"), initialization: WeightSharing.Initialization(rawValue: p.string("init")) ?? .linear,
      training: TrainingSettings(p), source: p.source)
  }
}
