import LatheTensor

/// Gives a transformer the activation outliers large language models have (a few channels
/// 10–100x the rest after a LayerNorm, Dettmers et al. 2022) without changing what it computes:
/// channel j of a norm's γ and β is multiplied by `scale` and column j of every Linear reading
/// the norm is divided by it. The fp32 model's outputs are the same to rounding; a per-tensor
/// int8 activation scale now has to cover the planted channels. For seeing on a small model
/// what per-tensor W8A8 suffers on a large one, and what `smoothquant` recovers.
public struct OutlierPlanting: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "plant-outliers",
    summary: "Make a few channels after each norm large, the function unchanged (to show what SmoothQuant fixes).",
    parameters: [
      ParameterDescriptor(
        "channels", .int(1...64), default: .int(4), help: "channels per norm made large, spread over its width"),
      ParameterDescriptor(
        "scale", .float(1...10_000), default: .float(40), help: "how much larger those channels become"),
    ], needsTrainData: false)

  public let config: OutlierPlantingConfig

  public init(_ config: OutlierPlantingConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let groups = try SmoothQuant.smoothable(model, step: config.source.stepName, to: "plant outliers in")
    for group in groups {
      let norm = model.nodes.first { $0.name == group.norm }!.layer as! Normalization
      let width = norm.width
      var factors = [Float](repeating: 1, count: width)
      for i in 0..<min(config.channels, width) { factors[(i * width) / min(config.channels, width)] = config.scale }
      // Multiplying the norm's output channel and dividing the readers' column: the same product.
      SmoothQuant.rescale(group, in: model, by: factors.map { 1 / $0 })
    }
    context.findings.smoothedNorms = groups.count
    return model
  }
}

public struct OutlierPlantingConfig: TechniqueConfig {
  public var channels: Int
  public var scale: Float
  public var source: SettingSource

  public init(channels: Int = 4, scale: Float = 40) {
    (self.channels, self.scale, self.source) = (channels, scale, .code("plant-outliers"))
  }

  public init(_ p: StepParameters) throws {
    channels = p.int("channels")
    scale = p.float("scale")
    source = p.source
  }
}
