import Foundation
import LatheCompress

/// What `lathe run --json` prints, and what a search trial reads back from its worker: one
/// `Codable` type on both sides, so a renamed field breaks the build, not the study.
public struct RunResult: Codable, Sendable, Equatable {
  public var pipeline: String
  /// The input model's metrics first, then one entry per step.
  public var steps: [StepMetrics]

  public init(pipeline: String, steps: [StepMetrics]) {
    self.pipeline = pipeline
    self.steps = steps
  }

  /// The final step's metrics under the names study objectives and constraints use
  /// (`StudySettings.pipelineMetrics`); `wall_seconds` is the whole run's.
  public var objectiveMetrics: [String: Double] {
    guard let last = steps.last else { return [:] }
    return [
      "accuracy": last.accuracy, "size_bytes": Double(last.sizeBytes), "compression_ratio": last.compressionRatio,
      "nonzeros": Double(last.nonzeros), "parameters": Double(last.parameters), "bits_per_weight": last.bitsPerWeight,
      "latency_b1": last.latencyUs.batch1P50, "latency_b1_p95": last.latencyUs.batch1P95,
      "latency_b256": last.latencyUs.batch256P50, "latency_b256_p95": last.latencyUs.batch256P95,
      "wall_seconds": steps.map(\.wallSeconds).reduce(0, +),
    ]
  }
}
