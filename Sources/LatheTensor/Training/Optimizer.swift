import Foundation

/// The update rule applied to parameters after each batch.
public enum OptimizerKind: Sendable, Equatable {
  /// SGD with momentum μ (PyTorch's form: v = μv + g, w −= lr·v), optional Nesterov, L2 weight decay.
  case sgd(momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0)
  /// Adam (Kingma & Ba) with L2 weight decay added to the gradient.
  case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0)
  /// AdamW (Loshchilov & Hutter): weight decay applied to the weights, decoupled from the gradient.
  case adamW(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01)

  /// "sgd", "adam", "adamw" with defaults.
  public static func named(_ name: String, weightDecay: Float? = nil) -> OptimizerKind? {
    switch name.lowercased() {
    case "sgd": return .sgd(weightDecay: weightDecay ?? 0)
    case "nesterov": return .sgd(nesterov: true, weightDecay: weightDecay ?? 0)
    case "adam": return .adam(weightDecay: weightDecay ?? 0)
    case "adamw": return .adamW(weightDecay: weightDecay ?? 0.01)
    default: return nil
    }
  }

  public var name: String {
    switch self {
    case .sgd(_, let nesterov, _): return nesterov ? "nesterov" : "sgd"
    case .adam: return "adam"
    case .adamW: return "adamw"
    }
  }
}

/// Holds per-parameter state (momentum, moments) and applies one update.
public final class Optimizer {
  public let kind: OptimizerKind
  private var firstMoment: [ObjectIdentifier: Tensor<Float>] = [:]
  private var secondMoment: [ObjectIdentifier: Tensor<Float>] = [:]
  private var stepCount = 0

  public init(_ kind: OptimizerKind) { self.kind = kind }

  /// Updates every parameter that has a gradient, then re-applies masks so pruned weights stay zero.
  public func step(_ parameters: [Parameter], learningRate lr: Float) {
    stepCount += 1
    for parameter in parameters {
      guard let grad = parameter.grad else { continue }
      let id = ObjectIdentifier(parameter)
      switch kind {
      case .sgd(let momentum, let nesterov, let decay):
        var velocity = firstMoment[id] ?? .zeros(parameter.shape)
        firstMoment[id] = nil  // unique reference: updated in place below
        grad.withUnsafeBufferPointer { g in
          velocity.withUnsafeMutableBufferPointer { v in
            parameter.value.withUnsafeMutableBufferPointer { w in
              for i in 0..<w.count {
                let gi = g[i] + decay * w[i]
                v[i] = momentum * v[i] + gi
                w[i] -= lr * (nesterov ? gi + momentum * v[i] : v[i])
              }
            }
          }
        }
        firstMoment[id] = velocity
      case .adam(let b1, let b2, let eps, let decay), .adamW(let b1, let b2, let eps, let decay):
        let decoupled: Bool
        if case .adamW = kind { decoupled = true } else { decoupled = false }
        var m = firstMoment[id] ?? .zeros(parameter.shape)
        var v = secondMoment[id] ?? .zeros(parameter.shape)
        firstMoment[id] = nil
        secondMoment[id] = nil
        let c1 = 1 - pow(b1, Float(stepCount))
        let c2 = 1 - pow(b2, Float(stepCount))
        grad.withUnsafeBufferPointer { g in
          m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
              parameter.value.withUnsafeMutableBufferPointer { w in
                for i in 0..<w.count {
                  let gi = decoupled ? g[i] : g[i] + decay * w[i]
                  if decoupled { w[i] -= lr * decay * w[i] }
                  mp[i] = b1 * mp[i] + (1 - b1) * gi
                  vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                  w[i] -= lr * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + eps)
                }
              }
            }
          }
        }
        firstMoment[id] = m
        secondMoment[id] = v
      }
      parameter.applyMask()
    }
  }
}
