import LatheTensor

/// Deep Compression's third stage: the saved model stores shared-weight indices and sparse
/// index gaps Huffman-coded. The weights do not change, only how the file holds them.
public struct EntropyCode: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "huffman",
    summary: "Store shared-weight indices and sparse gaps Huffman-coded (lossless; smaller file, same accuracy).",
    parameters: [
      ParameterDescriptor(
        "gap_bits", .int(0...16), default: .int(0), help: "bits per sparse index gap before coding; 0 picks the best")
    ], needsTrainData: false)

  public let config: EntropyCodeConfig

  public init(_ config: EntropyCodeConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let shared = MagnitudePruning.prunableWeights(of: model).filter { $0.parameter.codebook != nil }
    guard !shared.isEmpty else {
      throw StepFailure("huffman codes shared-weight indices: run a weight-sharing step before it")
    }
    model.metadata[DeploymentKeys.encoding] = "huffman"
    model.metadata[DeploymentKeys.gapBits] = "\(config.gapBits)"
    return model
  }
}

/// How `huffman` stores sparse index gaps.
public struct EntropyCodeConfig: TechniqueConfig, Equatable {
  /// Bits per sparse index gap before coding; 0 picks the best.
  public var gapBits: Int

  public init(gapBits: Int = 0) { self.gapBits = gapBits }

  public init(_ p: StepParameters) throws { gapBits = p.int("gap_bits") }
}

/// Model metadata keys that tell the deployment how to store weights. They live in the model
/// (and its file), not in the pipeline state: `Deployment` reads them when it saves the model.
public enum DeploymentKeys {
  public static let encoding = "lathe.encoding"
  public static let gapBits = "lathe.gap_bits"
}
