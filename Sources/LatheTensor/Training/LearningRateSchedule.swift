import Foundation

/// How the learning rate changes over training, evaluated per epoch.
public enum LearningRateSchedule: Sendable, Equatable {
  case constant
  /// Multiply by `gamma` every `every` epochs.
  case step(every: Int, gamma: Float)
  /// Cosine annealing from the base rate down to `minimum` at the last epoch.
  case cosine(minimum: Float)

  public func rate(base: Float, epoch: Int, totalEpochs: Int) -> Float {
    switch self {
    case .constant: return base
    case .step(let every, let gamma): return base * pow(gamma, Float(epoch / max(every, 1)))
    case .cosine(let minimum):
      // A single epoch runs at the base rate (at `minimum`, a one-epoch run would not train).
      let progress = totalEpochs > 1 ? Float(epoch) / Float(totalEpochs - 1) : 0
      return minimum + (base - minimum) * 0.5 * (1 + cos(.pi * progress))
    }
  }

  /// "constant", "step" (every 10 epochs ×0.1 unless given), "cosine".
  public static func named(_ name: String, stepEvery: Int = 10, gamma: Float = 0.1) -> LearningRateSchedule? {
    switch name.lowercased() {
    case "constant", "none": return .constant
    case "step": return .step(every: stepEvery, gamma: gamma)
    case "cosine": return .cosine(minimum: 0)
    default: return nil
    }
  }
}
