import Foundation
import LatheTensor

/// SmoothQuant (Xiao et al. 2023): moves the activation outliers of a transformer into the
/// weights before W8A8 quantization. A few input channels of a matrix carry values 10–100x the
/// rest, so one per-tensor activation scale wastes most of int8's levels on them. Dividing
/// channel j of the activation by s_j = max|X_j|^α / max|W_·j|^(1−α) and multiplying column j
/// of the weight by s_j computes exactly the same product, with the difficulty split between
/// the two by the migration strength α (0.5 in the paper; higher for models with larger
/// outliers).
///
/// The division is folded into the normalisation that produces the activation (its γ and β),
/// so it costs nothing at run time. That is why the step smooths the inputs of Linear layers
/// that read a LayerNorm or RMSNorm and nothing else: a transformer's q/k/v projections and
/// its first MLP matrix. The model's function is unchanged; the `quantize` step after it is
/// what gains.
public struct SmoothQuant: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "smoothquant",
    summary: "Migrate activation outliers into the weights (SmoothQuant) before int8 quantization.",
    parameters: [
      ParameterDescriptor(
        "alpha", .float(0...1), default: .float(0.5),
        help: "migration strength: 0 keeps activations as they are, 1 moves all of their range into the weights"),
      ParameterDescriptor(
        "samples", .int(1...100_000), default: .int(64),
        help: "training examples whose activations set each channel's maximum"),
    ], needsTrainData: false)

  public let config: SmoothQuantConfig

  public init(_ config: SmoothQuantConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let groups = try Self.smoothable(model, step: config.source.stepName, to: "fold scales into")
    context.report(0, "measuring activation ranges")
    let ranges = Self.activationMaxima(
      model, norms: Set(groups.map(\.norm)), data: context.data.train, samples: config.samples)
    var flattening: [Double] = []
    for group in groups {
      try context.checkCancellation()
      guard let range = ranges[group.norm] else { continue }
      let before = Self.spread(range)
      let scales = Self.apply(group, in: model, activationMax: range, alpha: config.alpha)
      flattening.append(before / max(Self.spread(zip(range, scales).map { $0 / $1 }), 1e-12))
    }
    context.findings.smoothedNorms = groups.count
    context.findings.activationSpreadReduction =
      flattening.isEmpty ? nil : flattening.reduce(0, +) / Double(flattening.count)
    return model
  }

  /// A normalisation node and the Linear layers that read it (and are its only readers).
  struct Group {
    var norm: String
    var readers: [String]
  }

  /// The groups of `model`, or an error naming `step` and what it wanted them for when there is none.
  static func smoothable(_ model: Model, step: String, to purpose: String) throws -> [Group] {
    let groups = smoothable(model)
    guard !groups.isEmpty else {
      throw StepFailure("\(step): no LayerNorm or RMSNorm whose readers are all Linear layers to \(purpose)")
    }
    return groups
  }

  static func smoothable(_ model: Model) -> [Group] {
    model.nodes.compactMap { node in
      guard node.layer is Normalization else { return nil }
      let readers = model.readers(of: node.name)
      guard !readers.isEmpty, readers.allSatisfy({ $0.layer is Linear && $0.inputs == [node.name] }) else { return nil }
      return Group(norm: node.name, readers: readers.map(\.name))
    }
  }

  /// max |x_j| per channel of each norm's output over `samples` training examples.
  static func activationMaxima(_ model: Model, norms: Set<String>, data: Dataset, samples: Int) -> [String: [Float]] {
    var maxima: [String: [Float]] = [:]
    let count = min(samples, data.count)
    GradientRecording.disabled {
      var start = 0
      while start < count {
        let end = min(start + 16, count)
        var context = ForwardContext.inference
        _ = model.forward(feeds: model.feeds(data, start..<end).map { Variable($0) }, context: &context) {
          node, _, output in
          guard norms.contains(node.name) else { return }
          let y = output.value.contiguous()
          let width = y.shape.last ?? 0
          var m = maxima[node.name] ?? [Float](repeating: 0, count: width)
          y.withUnsafeBufferPointer { p in
            for i in 0..<p.count { m[i % width] = max(m[i % width], abs(p[i])) }
          }
          maxima[node.name] = m
        }
        start = end
      }
    }
    return maxima
  }

  /// Divides the norm's γ (and β) by s and multiplies the readers' columns by s; returns s.
  @discardableResult
  static func apply(_ group: Group, in model: Model, activationMax: [Float], alpha: Float) -> [Float] {
    let linears = group.readers.map { name in model.nodes.first { $0.name == name }!.layer as! Linear }
    let width = activationMax.count
    var weightMax = [Float](repeating: 0, count: width)
    for linear in linears {
      let w = linear.weight.value.scalars
      for (i, v) in w.enumerated() { weightMax[i % width] = max(weightMax[i % width], abs(v)) }
    }
    let scales = (0..<width).map { j -> Float in
      guard activationMax[j] > 0, weightMax[j] > 0 else { return 1 }
      return max(1e-5, Foundation.pow(activationMax[j], alpha) / Foundation.pow(weightMax[j], 1 - alpha))
    }
    rescale(group, in: model, by: scales)
    return scales
  }

  /// Divides the norm's output channel j by s_j (its γ and β) and multiplies column j of each
  /// reader's weight by s_j: the readers compute what they computed before.
  static func rescale(_ group: Group, in model: Model, by scales: [Float]) {
    let norm = model.nodes.first { $0.name == group.norm }!.layer as! Normalization
    let s = Tensor<Float>(shape: [scales.count], scalars: scales)
    norm.gamma.value = norm.gamma.value / s
    if let beta = norm.beta { beta.value = beta.value / s }
    for name in group.readers {
      let linear = model.nodes.first { $0.name == name }!.layer as! Linear
      linear.weight.value = linear.weight.value * s
    }
  }

  /// Largest over median channel maximum: how far the outliers stand out.
  static func spread(_ maxima: [Float]) -> Double {
    let sorted = maxima.sorted()
    guard let top = sorted.last, !sorted.isEmpty else { return 1 }
    return Double(top) / max(Double(sorted[sorted.count / 2]), 1e-12)
  }
}

public struct SmoothQuantConfig: TechniqueConfig {
  public var alpha: Float
  public var samples: Int
  public var source: SettingSource

  public init(alpha: Float = 0.5, samples: Int = 64) {
    (self.alpha, self.samples, self.source) = (alpha, samples, .code("smoothquant"))
  }

  public init(_ p: StepParameters) throws {
    alpha = try p.float("alpha")
    samples = try p.int("samples")
    source = p.source
  }
}
