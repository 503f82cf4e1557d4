import Foundation
import LatheTensor

/// Parameter-free ONNX operators that Lathe's built-in layers do not cover. Each is a layer
/// with op "onnx.<Name>" and plain attributes, so a model file saves it and `ONNXLayers`
/// rebuilds it; every kind has a gradient, so imported models train and fine-tune.
public final class ONNXOp: Layer {
  public enum Kind: Equatable, Sendable {
    case identity
    /// Ones of the input's shape (Dropout's mask outside training); no gradient.
    case onesLike
    /// Elementwise functions by ONNX name: Erf, Neg, Exp, Log, Sqrt, Abs.
    case unary(String)
    case sub, mul, div, matmul
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    case softplus, softsign
    case hardSigmoid(alpha: Float, beta: Float)
    case clip(min: Float, max: Float)
    /// Target shape: 0 copies the input's dimension (unless `allowZero`), -1 is inferred.
    case reshape(shape: [Int], allowZero: Bool)
    /// ONNX Flatten: always two axes, [prod(before axis), prod(from axis)].
    case flatten(axis: Int)
    case transpose(permutation: [Int])
    case squeeze(axes: [Int])
    case unsqueeze(axes: [Int])
    case slice(starts: [Int], ends: [Int], axes: [Int], steps: [Int])
    case gather(axis: Int, indices: [Int], indicesShape: [Int])
    /// pads: ONNX order, every axis's begin then every axis's end; mode constant/edge/reflect/wrap.
    case pad(pads: [Int], mode: String, value: Float)
    case expand(shape: [Int])
    case lrn(size: Int, alpha: Float, beta: Float, bias: Float)
    case globalMaxPool
    /// Empty axes reduce every axis.
    case reduceMean(axes: [Int], keepDims: Bool)
    case reduceSum(axes: [Int], keepDims: Bool)
    /// `coerced`: opset < 13 semantics (the input flattened to 2-D at `axis`).
    case softmax(axis: Int, coerced: Bool)
    case logSoftmax(axis: Int, coerced: Bool)
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXOp(kind) }

  public var spec: LayerSpec { ONNXOpSpec.spec(kind) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .identity: return x
    case .onesLike: return Variable(Tensor(repeating: 1, shape: x.shape))
    case .unary(let name): return ONNXOp.unary(name, x)
    case .sub: return x - inputs[1]
    case .mul: return x * inputs[1]
    case .div: return x / inputs[1]
    case .matmul: return ONNXOp.matmul(x, inputs[1])
    case .elu(let alpha):
      return x.elementwise(
        { $0 > 0 ? $0 : alpha * (Foundation.exp($0) - 1) }, derivative: { v, y in v > 0 ? 1 : y + alpha })
    case .selu(let alpha, let gamma):
      return x.elementwise(
        { $0 > 0 ? gamma * $0 : gamma * alpha * (Foundation.exp($0) - 1) },
        derivative: { v, y in
          v > 0 ? gamma : y + gamma * alpha
        })
    case .softplus:
      return x.elementwise(
        { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) },
        derivative: { v, _ in
          1 / (1 + Foundation.exp(-v))
        })
    case .softsign:
      return x.elementwise({ $0 / (1 + abs($0)) }, derivative: { v, _ in 1 / ((1 + abs(v)) * (1 + abs(v))) })
    case .hardSigmoid(let alpha, let beta): return x.hardSigmoid(alpha: alpha, beta: beta)
    case .clip(let low, let high):
      return x.elementwise(
        { Swift.min(Swift.max($0, low), high) }, derivative: { v, _ in v >= low && v <= high ? 1 : 0 })
    case .reshape(let shape, let allowZero):
      // The shape rule (ONNXShapeRules.swift) refuses targets that do not resolve before this runs.
      // A graph with symbolic sizes checked it at probe sizes only: the fed ones may not fit.
      guard let target = ONNXOp.target(shape, allowZero: allowZero, of: x.shape) else {
        RunFailure.record("Reshape", "cannot reshape \(x.shape) to \(shape)")
        return Variable(.zeros(x.shape))
      }
      return x.reshaped(target)
    case .flatten(let axis):
      let a = axis < 0 ? axis + x.shape.count : axis
      return x.reshaped([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])
    case .transpose(let permutation):
      return x.permuted(permutation.isEmpty ? Array((0..<x.shape.count).reversed()) : permutation)
    case .squeeze(let axes):
      let rank = x.shape.count
      let drop = Set(axes.isEmpty ? x.shape.indices.filter { x.shape[$0] == 1 } : axes.map { ($0 + rank) % rank })
      return x.reshaped(x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })
    case .unsqueeze(let axes):
      let rank = x.shape.count + axes.count
      let added = Set(axes.map { ($0 + rank) % rank })
      var source = x.shape.makeIterator()
      return x.reshaped((0..<rank).map { added.contains($0) ? 1 : source.next()! })
    case .slice(let starts, let ends, let axes, let steps):
      return ONNXOp.slice(x, starts: starts, ends: ends, axes: axes, steps: steps)
    case .gather(let axis, let indices, let indicesShape):
      return ONNXOp.gather(x, axis: axis, indices: indices, indicesShape: indicesShape)
    case .pad(let pads, let mode, let value): return ONNXOp.pad(x, pads: pads, mode: mode, value: value)
    case .expand(let shape):
      let out = broadcastShape(x.shape, shape) ?? x.shape
      return out == x.shape ? x : x.gathered(IndexMap.expand(input: x.shape, output: out), shape: out)
    case .lrn(let size, let alpha, let beta, let bias):
      return ONNXOp.lrn(x, size: size, alpha: alpha, beta: beta, bias: bias)
    case .globalMaxPool: return ONNXOp.globalMaxPool(x)
    case .reduceMean(let axes, let keep):
      return x.mean(axes: axes.isEmpty ? Array(x.shape.indices) : axes, keepingDimensions: keep)
    case .reduceSum(let axes, let keep):
      return x.sum(axes: axes.isEmpty ? Array(x.shape.indices) : axes, keepingDimensions: keep)
    case .softmax(let axis, let coerced):
      return ONNXOp.normalized(x, axis: axis, coerced: coerced) { $0.softmax(axis: $1) }
    case .logSoftmax(let axis, let coerced):
      return ONNXOp.normalized(x, axis: axis, coerced: coerced) { $0.logSoftmax(axis: $1) }
    }
  }

  static let unaryNames: Set<String> = ["Erf", "Neg", "Exp", "Log", "Sqrt", "Abs"]

  static func unary(_ name: String, _ x: Variable) -> Variable {
    switch name {
    case "Erf": return x.erf()
    case "Neg": return -x
    case "Exp": return x.exp()
    case "Log": return x.log()
    case "Sqrt": return x.sqrt()
    default: return x.elementwise({ abs($0) }, derivative: { v, _ in v > 0 ? 1 : (v < 0 ? -1 : 0) })
    }
  }

  /// Resolves 0 (copy), -1 (infer) and the folded batch marker against the input's shape; nil
  /// when the sizes multiply past what a tensor may hold (a damaged file's shape) or do not hold
  /// the input's elements (a size fed at run time that the shape does not divide).
  static func target(_ shape: [Int], allowZero: Bool, of input: [Int]) -> [Int]? {
    var out = shape
    let hasInferred = shape.contains(-1)
    for (i, d) in shape.enumerated() {
      if d == 0 && !allowZero && i < input.count { out[i] = input[i] }
      if d == ONNXConstant.batchMarker { out[i] = hasInferred ? input.first ?? 1 : -1 }
    }
    if let inferred = out.firstIndex(of: -1) {
      let others = out.enumerated().filter { $0.offset != inferred }.map(\.element)
      guard let known = ONNXShapes.product(others), let total = ONNXShapes.product(input) else { return nil }
      out[inferred] = known == 0 ? 0 : total / known
    }
    // A fed size the shape does not divide (or a product that differs) is no target.
    guard ONNXShapes.product(out) == ONNXShapes.product(input) else { return nil }
    return out
  }

  /// ONNX MatMul (numpy semantics) for ranks 1 to 4, batch axes broadcast by flattening.
  static func matmul(_ a: Variable, _ b: Variable) -> Variable {
    var a = a
    var b = b
    let vectorA = a.shape.count == 1
    let vectorB = b.shape.count == 1
    if vectorA { a = a.reshaped([1] + a.shape) }
    if vectorB { b = b.reshaped(b.shape + [1]) }
    var result: Variable
    if a.shape.count == 2 && b.shape.count == 2 {
      result = a.matmul(b)
    } else if b.shape.count == 2 {
      let lead = Array(a.shape.dropLast())
      result = a.reshaped([lead.reduce(1, *), a.shape.last!]).matmul(b).reshaped(lead + [b.shape[1]])
    } else {
      let batch = broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) ?? []
      let count = batch.reduce(1, *)
      func flat(_ v: Variable) -> Variable {
        let target = batch + v.shape.suffix(2)
        let expanded =
          v.shape == target ? v : v.gathered(IndexMap.expand(input: v.shape, output: target), shape: target)
        return expanded.reshaped([count] + v.shape.suffix(2))
      }
      let product = flat(a).matmul(flat(b))
      result = product.reshaped(batch + product.shape.suffix(2))
    }
    if vectorA { result = result.reshaped(Array(result.shape.dropLast(2)) + [result.shape.last!]) }
    if vectorB { result = result.reshaped(Array(result.shape.dropLast())) }
    return result
  }

  static func slice(_ x: Variable, starts: [Int], ends: [Int], axes: [Int], steps: [Int]) -> Variable {
    let rank = x.shape.count
    var begin = [Int](repeating: 0, count: rank)
    var step = [Int](repeating: 1, count: rank)
    var out = x.shape
    for (i, rawAxis) in (axes.isEmpty ? Array(0..<starts.count) : axes).enumerated() {
      let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
      let dim = x.shape[axis]
      let s = i < steps.count ? steps[i] : 1
      var start = starts[i] < 0 ? starts[i] + dim : starts[i]
      var end = ends[i] < 0 ? ends[i] + dim : ends[i]
      if s > 0 {
        start = min(max(start, 0), dim)
        end = min(max(end, 0), dim)
        out[axis] = max(0, (end - start + s - 1) / s)
      } else {
        start = min(max(start, -1), dim - 1)
        end = min(max(end, -1), dim - 1)
        out[axis] = max(0, (start - end + (-s) - 1) / (-s))
      }
      begin[axis] = start
      step[axis] = s
    }
    if step.allSatisfy({ $0 == 1 }) && out == x.shape { return x }
    return x.gathered(IndexMap.strided(input: x.shape, output: out, starts: begin, steps: step), shape: out)
  }

  static func gather(_ x: Variable, axis rawAxis: Int, indices: [Int], indicesShape: [Int]) -> Variable {
    let axis = rawAxis < 0 ? rawAxis + x.shape.count : rawAxis
    let dim = x.shape[axis]
    let out = Array(x.shape[..<axis]) + indicesShape + Array(x.shape[(axis + 1)...])
    let strides = Tensor<Float>.rowMajorStrides(x.shape)
    let map = IndexMap.build(out) { c in
      var flat = 0
      for d in 0..<axis { flat += c[d] * strides[d] }
      var position = 0
      for d in 0..<indicesShape.count { position = position * indicesShape[d] + c[axis + d] }
      let index = indices[position] < 0 ? indices[position] + dim : indices[position]
      flat += min(max(index, 0), dim - 1) * strides[axis]
      for d in (axis + 1)..<x.shape.count { flat += c[d + indicesShape.count - 1] * strides[d] }
      return flat
    }
    return x.gathered(map, shape: out)
  }

  static func pad(_ x: Variable, pads: [Int], mode: String, value: Float) -> Variable {
    let rank = x.shape.count
    let out = (0..<rank).map { x.shape[$0] + pads[$0] + pads[$0 + rank] }
    let strides = Tensor<Float>.rowMajorStrides(x.shape)
    let map = IndexMap.build(out) { c in
      var flat = 0
      for d in 0..<rank {
        let n = x.shape[d]
        var i = c[d] - pads[d]
        if i < 0 || i >= n {
          switch mode {
          case "edge": i = min(max(i, 0), n - 1)
          case "reflect":
            let period = max(2 * (n - 1), 1)
            i = ((i % period) + period) % period
            if i >= n { i = period - i }
          case "wrap": i = ((i % n) + n) % n
          default: return -1
          }
        }
        flat += i * strides[d]
      }
      return flat
    }
    return x.gathered(map, shape: out, fill: value)
  }

  /// Local response normalisation across channels: x / (bias + alpha/size * sum of squares)^beta.
  static func lrn(_ x: Variable, size: Int, alpha: Float, beta: Float, bias: Float) -> Variable {
    let channels = x.shape[1]
    let square = x * x
    // The window reaches (size - 1) / 2 channels back and the rest forward; past channels - 1
    // either way it only adds zeros, so it is cut there (a huge size costs nothing extra).
    let before = min((size - 1) / 2, channels - 1)
    let after = min(size - 1 - (size - 1) / 2, channels - 1)
    var pads = [Int](repeating: 0, count: 2 * x.shape.count)
    pads[1] = before
    pads[1 + x.shape.count] = after
    let padded = pad(square, pads: pads, mode: "constant", value: 0)
    var total = padded.sliced(axis: 1, 0..<channels)
    for offset in 1..<max(before + after + 1, 1) {
      total = total + padded.sliced(axis: 1, offset..<(offset + channels))
    }
    return x / (total * (alpha / Float(size)) + bias).pow(beta)
  }

  static func globalMaxPool(_ x: Variable) -> Variable {
    let axes = Array(2..<x.shape.count)
    let y = x.value.max(axes: axes, keepingDimensions: true)
    return Variable(y, parents: [x]) { g in
      // The gradient goes to every position equal to its window's maximum.
      let mask = x.value.zipWith(y.expanded(to: x.shape).contiguous()) { $0 == $1 ? 1 : 0 }
      return [mask * g.expanded(to: x.shape).contiguous()]
    }
  }

  static func normalized(
    _ x: Variable, axis rawAxis: Int, coerced: Bool, _ body: (Variable, Int) -> Variable
  ) -> Variable {
    let axis = rawAxis < 0 ? rawAxis + x.shape.count : rawAxis
    if !coerced || axis == x.shape.count - 1 { return body(x, axis) }
    let flat = x.reshaped([x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
    return body(flat, 1).reshaped(x.shape)
  }
}
