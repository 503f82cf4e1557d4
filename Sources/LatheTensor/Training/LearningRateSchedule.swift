import Foundation

/// How the learning rate changes over training, evaluated per epoch.
public enum LearningRateSchedule: Sendable, Equatable {
  case constant
  /// Multiply by `gamma` every `every` epochs.
  case step(every: Int, gamma: Float)
  /// Cosine annealing from the base rate down to `minimum` at the last epoch.
  case cosine(minimum: Float)
  /// A linear warm-up over the first `warmup` of training, then a cosine down to `minimum`,
  /// moved after every batch (how transformers are trained: a run of one or two epochs still
  /// anneals, and the first steps of Adam do not blow up the attention).
  case warmupCosine(warmup: Float, minimum: Float)

  /// The rate during `epoch` (from 0), `within` (0..<1) of the way through its batches; only
  /// `warmupCosine` moves within an epoch.
  public func rate(base: Float, epoch: Int, totalEpochs: Int, within: Float = 0) -> Float {
    switch self {
    case .warmupCosine(let warmup, let minimum):
      let progress = (Float(epoch) + within) / Float(max(totalEpochs, 1))
      if progress < warmup { return base * (progress + 1e-3) / warmup }
      let decay = (progress - warmup) / max(1 - warmup, 1e-6)
      return minimum + (base - minimum) * 0.5 * (1 + cos(.pi * decay))
    case .constant: return base
    case .step(let every, let gamma): return base * pow(gamma, Float(epoch / max(every, 1)))
    case .cosine(let minimum):
      // A single epoch runs at the base rate (at `minimum`, a one-epoch run would not train).
      let progress = totalEpochs > 1 ? Float(epoch) / Float(totalEpochs - 1) : 0
      return minimum + (base - minimum) * 0.5 * (1 + cos(.pi * progress))
    }
  }

  /// "constant", "step" (every 10 epochs ×0.1 unless given), "cosine", "warmup-cosine" (5%
  /// warm-up, then cosine to 0, per batch).
  public static func named(_ name: String, stepEvery: Int = 10, gamma: Float = 0.1) -> LearningRateSchedule? {
    switch name.lowercased() {
    case "constant", "none": return .constant
    case "step": return .step(every: stepEvery, gamma: gamma)
    case "cosine": return .cosine(minimum: 0)
    case "warmup-cosine": return .warmupCosine(warmup: 0.05, minimum: 0)
    default: return nil
    }
  }
}
