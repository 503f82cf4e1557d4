/// Every technique a pipeline step can name.
public enum Techniques {
  public static let all: [any Technique.Type] = [
    FineTune.self, TrainFromScratch.self, Prune.self, GradualPrune.self, SensitivityAnalysis.self, ShareWeights.self,
    EntropyCode.self, SmoothQuant.self, OutlierPlanting.self, Int8Quantize.self, WeightOnly.self,
    QuantizationAwareTraining.self,
    Distill.self,
    Transfer.self,
  ]

  public static var descriptors: [TechniqueDescriptor] { all.map { $0.descriptor } }

  public static func named(_ name: String) -> (any Technique.Type)? {
    all.first { $0.descriptor.name == name }
  }

  /// The configured technique for a step, or an error naming the file, line and key.
  public static func make(_ step: StepSpec, file: String) throws -> any Technique {
    guard let type = named(step.technique) else {
      throw PipelineError(
        file: file, line: step.parameterLines["technique"] ?? step.line, key: "technique",
        message:
          "unknown technique \"\(step.technique)\"; known: \(all.map { $0.descriptor.name }.joined(separator: ", "))")
    }
    return try type.init(StepParameters(step: step, file: file, descriptor: type.descriptor))
  }
}
