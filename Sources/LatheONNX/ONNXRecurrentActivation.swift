import Foundation
import LatheTensor

/// One of the activation functions ONNX's RNN, GRU and LSTM accept in `activations`, with the
/// alpha and beta it takes. Each is an autodiff primitive or the layer of the ONNX operator of
/// that name, so a recurrent layer has a gradient through it.
public struct ONNXRecurrentActivation: Equatable, Sendable {
  /// The name as the ONNX specification spells it ("Sigmoid", "HardSigmoid").
  public let name: String
  public let alpha: Float
  public let beta: Float

  /// The functions and their default alpha and beta (those ONNX Runtime uses when the
  /// attribute lists run out); nil for a function without that coefficient.
  static let defaults: [String: (alpha: Float?, beta: Float?)] = [
    "Sigmoid": (nil, nil), "Tanh": (nil, nil), "Relu": (nil, nil), "Softsign": (nil, nil), "Softplus": (nil, nil),
    "LeakyRelu": (0.01, nil), "ThresholdedRelu": (1, nil), "Elu": (1, nil), "ScaledTanh": (1, 1),
    "HardSigmoid": (0.2, 0.5), "Affine": (1, 0),
  ]

  /// The function named `name` (any letter case, as ONNX Runtime reads it), nil when ONNX has
  /// no such activation.
  public init?(_ name: String, alpha: Float? = nil, beta: Float? = nil) {
    guard let canonical = Self.defaults.keys.first(where: { $0.lowercased() == name.lowercased() }),
      let coefficients = Self.defaults[canonical]
    else { return nil }
    self.name = canonical
    self.alpha = alpha ?? coefficients.alpha ?? 0
    self.beta = beta ?? coefficients.beta ?? 0
  }

  /// Whether the function reads alpha (and beta): `activation_alpha` and `activation_beta` hold
  /// values only for the functions that take them, in order.
  var takesAlpha: Bool { Self.defaults[name]?.alpha != nil }
  var takesBeta: Bool { Self.defaults[name]?.beta != nil }

  func callAsFunction(_ x: Variable) -> Variable {
    switch name {
    case "Sigmoid": return x.sigmoid()
    case "Tanh": return x.tanh()
    case "Relu": return x.relu()
    case "LeakyRelu": return x.leakyRelu(slope: alpha)
    case "ScaledTanh": return (x * beta).tanh() * alpha
    case "Affine": return x * alpha + beta
    default:
      // The rest are ONNX operators of their own: the same layers compute them.
      var context = ForwardContext.inference
      return operatorLayer.forward([x], context: &context)
    }
  }

  private var operatorLayer: Layer {
    switch name {
    case "ThresholdedRelu": return ONNXMathOp(.thresholdedRelu(alpha: alpha))
    case "HardSigmoid": return ONNXOp(.hardSigmoid(alpha: alpha, beta: beta))
    case "Elu": return ONNXOp(.elu(alpha: alpha))
    case "Softsign": return ONNXOp(.softsign)
    default: return ONNXOp(.softplus)  // The initializer admits only the names handled here.
    }
  }

  /// The functions `names` asks for, each taking the next of `alphas` and `betas` when it reads
  /// that coefficient, as ONNX Runtime does.
  static func list(_ names: [String], alphas: [Float], betas: [Float]) -> Result<[Self], UnknownName> {
    var (nextAlpha, nextBeta) = (alphas.makeIterator(), betas.makeIterator())
    var result: [Self] = []
    for name in names {
      guard let plain = Self(name) else { return .failure(UnknownName(name: name)) }
      let alpha = plain.takesAlpha ? nextAlpha.next() : nil
      let beta = plain.takesBeta ? nextBeta.next() : nil
      result.append(Self(name, alpha: alpha, beta: beta) ?? plain)
    }
    return .success(result)
  }

  struct UnknownName: Error { let name: String }
}
