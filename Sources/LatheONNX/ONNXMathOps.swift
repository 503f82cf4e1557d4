import Foundation
import LatheTensor

/// ONNX's elementwise math, variadic and reduction operators that `ONNXOp` does not hold:
/// trigonometry, rounding, HardSwish/Mish/Celu-style activations, Pow and Mod, Max/Min/Mean
/// over any number of broadcast inputs, and the Reduce* family beyond ReduceMean/ReduceSum.
/// Like `ONNXOp`, each kind is a layer with op "onnx.<Name>" and plain attributes (so a model
/// file saves and `ONNXLayers` rebuilds it), and each has a gradient, so imported models train.
public final class ONNXMathOp: Layer {
  public enum Kind: Equatable, Sendable {
    /// A parameter-free elementwise function by ONNX name (`ONNXMathOp.unaryNames`); "GeluTanh"
    /// is ONNX's Gelu with approximate="tanh".
    case unary(String)
    case celu(alpha: Float)
    case thresholdedRelu(alpha: Float)
    /// x + bias below −lambd, x − bias above lambd, 0 between.
    case shrink(lambd: Float, bias: Float)
    /// Float base to a broadcast exponent (constant or computed).
    case pow
    /// `fmod`: C's fmod (the sign of the dividend); otherwise the sign of the divisor, as Python.
    case mod(fmod: Bool)
    /// Max, Min or Mean of two or more broadcast inputs.
    case variadic(Variadic)
    /// Empty axes reduce every axis.
    case reduce(Reduction, axes: [Int], keepDims: Bool)
  }

  /// Raw values are the ONNX operator names.
  public enum Variadic: String, Sendable, CaseIterable {
    case max = "Max"
    case min = "Min"
    case mean = "Mean"
  }

  public enum Reduction: String, Sendable, CaseIterable {
    case max = "ReduceMax"
    case min = "ReduceMin"
    case prod = "ReduceProd"
    case l1 = "ReduceL1"
    case l2 = "ReduceL2"
    case logSum = "ReduceLogSum"
    case logSumExp = "ReduceLogSumExp"
    case sumSquare = "ReduceSumSquare"
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXMathOp(kind) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .unary(let name): return Self.unary(name, x)
    case .celu(let alpha):
      // max(0, x) + min(0, α(exp(x/α) − 1)); the two branches meet with slope 1 at 0.
      return x.elementwise(
        { $0 > 0 ? $0 : alpha * (Foundation.exp($0 / alpha) - 1) },
        derivative: { v, _ in v > 0 ? 1 : Foundation.exp(v / alpha) })
    case .thresholdedRelu(let alpha):
      return x.elementwise({ $0 > alpha ? $0 : 0 }, derivative: { v, _ in v > alpha ? 1 : 0 })
    case .shrink(let lambd, let bias):
      return x.elementwise(
        { $0 < -lambd ? $0 + bias : ($0 > lambd ? $0 - bias : 0) },
        derivative: { v, _ in v < -lambd || v > lambd ? 1 : 0 })
    case .pow: return Self.pow(x, inputs[1])
    case .mod(let fmod): return Self.mod(x, inputs[1], fmod: fmod)
    case .variadic(let op):
      switch op {
      case .max: return inputs.dropFirst().reduce(x) { Self.pick($0, $1, first: >=) }
      case .min: return inputs.dropFirst().reduce(x) { Self.pick($0, $1, first: <=) }
      case .mean: return inputs.dropFirst().reduce(x, +) * (1 / Float(inputs.count))
      }
    case .reduce(let op, let axes, let keep):
      return Self.reduce(op, x, axes: axes.isEmpty ? Array(x.shape.indices) : axes, keepDims: keep)
    }
  }

  static let unaryNames: Set<String> = [
    "HardSwish", "GeluTanh", "Mish", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin",
    "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
  ]

  /// Each function with its derivative f'(x, y), y = f(x). Floor, Ceil, Round and Sign are flat
  /// almost everywhere: their gradient is zero, also at the jumps, where none exists.
  static func unary(_ name: String, _ x: Variable) -> Variable {
    switch name {
    case "HardSwish": return x.hardSwish()
    case "GeluTanh": return x.elementwise(geluTanh, derivative: { v, _ in geluTanhDerivative(v) })
    case "Mish":
      return x.elementwise(
        { $0 * Foundation.tanh(softplus($0)) },
        derivative: { v, _ in
          let t = Foundation.tanh(softplus(v))
          return t + v * (1 - t * t) / (1 + Foundation.exp(-v))
        })
    case "Reciprocal": return x.elementwise({ 1 / $0 }, derivative: { _, y in -y * y })
    case "Floor": return x.elementwise({ $0.rounded(.down) }, derivative: { _, _ in 0 })
    case "Ceil": return x.elementwise({ $0.rounded(.up) }, derivative: { _, _ in 0 })
    // ONNX rounds halves to the even neighbour (numpy.round), not away from zero.
    case "Round": return x.elementwise({ $0.rounded(.toNearestOrEven) }, derivative: { _, _ in 0 })
    case "Sign": return x.elementwise({ $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, derivative: { _, _ in 0 })
    case "Sin": return x.elementwise({ Foundation.sin($0) }, derivative: { v, _ in Foundation.cos(v) })
    case "Cos": return x.elementwise({ Foundation.cos($0) }, derivative: { v, _ in -Foundation.sin(v) })
    case "Tan": return x.elementwise({ Foundation.tan($0) }, derivative: { _, y in 1 + y * y })
    case "Asin": return x.elementwise({ Foundation.asin($0) }, derivative: { v, _ in 1 / (1 - v * v).squareRoot() })
    case "Acos": return x.elementwise({ Foundation.acos($0) }, derivative: { v, _ in -1 / (1 - v * v).squareRoot() })
    case "Atan": return x.elementwise({ Foundation.atan($0) }, derivative: { v, _ in 1 / (1 + v * v) })
    case "Sinh": return x.elementwise({ Foundation.sinh($0) }, derivative: { v, _ in Foundation.cosh(v) })
    case "Cosh": return x.elementwise({ Foundation.cosh($0) }, derivative: { v, _ in Foundation.sinh(v) })
    case "Asinh": return x.elementwise({ Foundation.asinh($0) }, derivative: { v, _ in 1 / (v * v + 1).squareRoot() })
    case "Acosh": return x.elementwise({ Foundation.acosh($0) }, derivative: { v, _ in 1 / (v * v - 1).squareRoot() })
    case "Atanh": return x.elementwise({ Foundation.atanh($0) }, derivative: { v, _ in 1 / (1 - v * v) })
    default: preconditionFailure("unary \(name) is not in ONNXMathOp.unaryNames")
    }
  }

  /// log(1 + eˣ) without overflow for large x.
  static func softplus(_ v: Float) -> Float { v > 20 ? v : Foundation.log1p(Foundation.exp(v)) }

  static let geluScale = (2 / Float.pi).squareRoot()

  /// 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 x³))).
  static func geluTanh(_ v: Float) -> Float {
    0.5 * v * (1 + Foundation.tanh(geluScale * (v + 0.044_715 * v * v * v)))
  }

  static func geluTanhDerivative(_ v: Float) -> Float {
    let t = Foundation.tanh(geluScale * (v + 0.044_715 * v * v * v))
    return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * geluScale * (1 + 3 * 0.044_715 * v * v)
  }

  /// aᵇ with both operands broadcast. ∂/∂b = aᵇ · ln a exists only for a > 0; elsewhere the
  /// exponent gets no gradient (a negative base with a fractional exponent is NaN anyway).
  static func pow(_ a: Variable, _ b: Variable) -> Variable {
    let y = a.value.zipWith(b.value) { Foundation.pow($0, $1) }
    return Variable(y, parents: [a, b]) { g in
      let shape = y.shape
      let base = a.value.expanded(to: shape).contiguous()
      let exponent = b.value.expanded(to: shape).contiguous()
      return [
        a.requiresGrad
          ? (g * base.zipWith(exponent) { $1 == 0 ? 0 : $1 * Foundation.pow($0, $1 - 1) }).sumToShape(a.shape) : nil,
        b.requiresGrad
          ? (g * y.zipWith(base) { $1 > 0 ? $0 * Foundation.log($1) : 0 }).sumToShape(b.shape) : nil,
      ]
    }
  }

  /// a − q·b with q = trunc(a/b) (fmod) or floor(a/b); ∂/∂a = 1, ∂/∂b = −q.
  static func mod(_ a: Variable, _ b: Variable, fmod: Bool) -> Variable {
    func remainder(_ x: Float, _ d: Float) -> Float {
      let r = Foundation.fmod(x, d)
      return !fmod && r != 0 && (r < 0) != (d < 0) ? r + d : r
    }
    let y = a.value.zipWith(b.value, remainder)
    return Variable(y, parents: [a, b]) { g in
      let quotient = a.value.zipWith(b.value) { x, d in
        let q = (x - remainder(x, d)) / d
        return q.isFinite ? q.rounded() : 0
      }
      return [g.sumToShape(a.shape), b.requiresGrad ? (-g * quotient).sumToShape(b.shape) : nil]
    }
  }

  /// The larger (`first: >=`) or smaller (`<=`) of two broadcast inputs; the gradient goes to
  /// the one chosen, to the first on a tie.
  static func pick(_ a: Variable, _ b: Variable, first: @escaping (Float, Float) -> Bool) -> Variable {
    let y = a.value.zipWith(b.value) { first($0, $1) ? $0 : $1 }
    return Variable(y, parents: [a, b]) { g in
      let mask = a.value.zipWith(b.value) { first($0, $1) ? 1 : 0 }
      return [(g * mask).sumToShape(a.shape), (g * mask.mapFloat { 1 - $0 }).sumToShape(b.shape)]
    }
  }

  static func reduce(_ op: Reduction, _ x: Variable, axes: [Int], keepDims: Bool) -> Variable {
    switch op {
    case .max: return extreme(x, axes: axes, keepDims: keepDims, initial: -.infinity, Swift.max)
    case .min: return extreme(x, axes: axes, keepDims: keepDims, initial: .infinity, Swift.min)
    case .prod: return product(x, axes: axes, keepDims: keepDims)
    case .l1:
      let magnitude = x.elementwise({ abs($0) }, derivative: { v, _ in v > 0 ? 1 : (v < 0 ? -1 : 0) })
      return magnitude.sum(axes: axes, keepingDimensions: keepDims)
    case .l2: return (x * x).sum(axes: axes, keepingDimensions: keepDims).sqrt()
    case .logSum: return x.sum(axes: axes, keepingDimensions: keepDims).log()
    case .logSumExp:
      // Shifted by the (constant) maximum so exp cannot overflow; an all −∞ row stays −∞.
      let peak = x.value.max(axes: axes, keepingDimensions: true).mapFloat { $0.isFinite ? $0 : 0 }
      let shifted = (x - Variable(peak)).exp().sum(axes: axes, keepingDimensions: true).log() + Variable(peak)
      return keepDims ? shifted : shifted.reshaped(dropped(axes, of: x.shape))
    case .sumSquare: return (x * x).sum(axes: axes, keepingDimensions: keepDims)
    }
  }

  /// `shape` without the (valid, non-negative or negative) `axes`.
  static func dropped(_ axes: [Int], of shape: [Int]) -> [Int] {
    let reduced = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
    return shape.indices.filter { !reduced.contains($0) }.map { shape[$0] }
  }

  /// ReduceMax/ReduceMin: the gradient goes to every element equal to its group's extreme.
  static func extreme(
    _ x: Variable, axes: [Int], keepDims: Bool, initial: Float, _ op: @escaping (Float, Float) -> Float
  ) -> Variable {
    let kept = x.value.reduce(axes: axes, keepingDimensions: true, initial: initial, op)
    let y = keepDims ? kept : kept.reshaped(dropped(axes, of: x.shape))
    return Variable(y, parents: [x]) { g in
      let mask = x.value.zipWith(kept) { $0 == $1 ? 1 : 0 }
      return [mask * g.reshaped(kept.shape).expanded(to: x.shape).contiguous()]
    }
  }

  /// ReduceProd. Its gradient is the product of the other elements of the group, computed from
  /// the non-zero product and the count of zeros, so that zeros in the input do not divide.
  static func product(_ x: Variable, axes: [Int], keepDims: Bool) -> Variable {
    let kept = x.value.reduce(axes: axes, keepingDimensions: true, initial: 1, *)
    let y = keepDims ? kept : kept.reshaped(dropped(axes, of: x.shape))
    return Variable(y, parents: [x]) { g in
      let nonzero = x.value.mapFloat { $0 == 0 ? 1 : $0 }.reduce(axes: axes, keepingDimensions: true, initial: 1, *)
      let zeros = x.value.mapFloat { $0 == 0 ? 1 : 0 }.sum(axes: axes, keepingDimensions: true)
      let (p, z) = (nonzero.expanded(to: x.shape).contiguous(), zeros.expanded(to: x.shape).contiguous())
      let others = x.value.contiguous().withUnsafeBufferPointer { v in
        p.withUnsafeBufferPointer { p in
          z.withUnsafeBufferPointer { z in
            Tensor<Float>(shape: x.shape) { out in
              for i in 0..<v.count {
                // No zero in the group: p / v. The group's only zero: p. Otherwise the product holds a zero.
                out[i] = z[i] == 0 ? p[i] / v[i] : (z[i] == 1 && v[i] == 0 ? p[i] : 0)
              }
            }
          }
        }
      }
      return [others * g.reshaped(kept.shape).expanded(to: x.shape).contiguous()]
    }
  }
}
