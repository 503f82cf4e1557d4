import Foundation
import LatheTensor

/// ONNX's LpNormalization: x divided by its L1 or L2 norm along one axis. A line whose norm is
/// 0 gives 0 (and gradient 0) rather than the reference's 0/0 NaN, as ONNX Runtime does.
public final class ONNXLpNormalization: Layer {
  /// Non-negative (the converter resolves negative axes).
  public let axis: Int
  /// 1 or 2.
  public let p: Int

  public init(axis: Int, p: Int) { (self.axis, self.p) = (axis, p) }

  public func copy() -> Layer { ONNXLpNormalization(axis: axis, p: p) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let v = x.value.contiguous().scalars
    let (outer, size, inner) = ONNXScanOp.split(x.shape, at: axis)
    var norms = [Float](repeating: 0, count: outer * inner)
    var y = [Float](repeating: 0, count: v.count)
    for o in 0..<outer {
      for i in 0..<inner {
        let line = (0..<size).map { (o * size + $0) * inner + i }
        let norm = p == 1 ? line.reduce(0) { $0 + abs(v[$1]) } : sqrtf(line.reduce(0) { $0 + v[$1] * v[$1] })
        norms[o * inner + i] = norm
        if norm > 0 { for at in line { y[at] = v[at] / norm } }
      }
    }
    let (p, shape) = (p, x.shape)
    return Variable(Tensor(shape: shape, scalars: y), parents: [x]) { g in
      let gs = g.contiguous().scalars
      var dx = [Float](repeating: 0, count: v.count)
      for o in 0..<outer {
        for i in 0..<inner {
          let norm = norms[o * inner + i]
          guard norm > 0 else { continue }
          let line = (0..<size).map { (o * size + $0) * inner + i }
          // y = x / n: dx = g / n − (dn/dx)·Σ g·x / n², with dn/dx = x / n (p = 2) or sign(x) (p = 1).
          let gx = line.reduce(0) { $0 + gs[$1] * v[$1] }
          for at in line {
            let dn: Float = p == 1 ? (v[at] > 0 ? 1 : v[at] < 0 ? -1 : 0) : v[at] / norm
            dx[at] = gs[at] / norm - dn * gx / (norm * norm)
          }
        }
      }
      return [Tensor(shape: shape, scalars: dx)]
    }
  }
}

/// ONNX's Einsum, as a direct loop over every assignment of the equation's letters: general
/// (repeated letters in one operand take a diagonal, letters absent from the output are
/// summed), at the cost of speed; the models that use Einsum use it on small operands. The
/// gradient of operand k is the same loop with the output's gradient in its place.
public final class ONNXEinsum: Layer {
  public let equation: String
  /// Each operand's letters, as indices into the equation's distinct letters.
  let operands: [[Int]]
  let output: [Int]
  let letterCount: Int

  /// Parses `equation` ("ij,jk->ik"; implicit form "ij,jk" gives the letters seen once, in
  /// alphabetical order). Ellipses are not supported.
  public init(equation: String) throws(ModelError) {
    let text = equation.filter { !$0.isWhitespace }
    guard !text.contains(".") else {
      throw .badAttribute(op: "onnx.Einsum", key: "equation", expected: "no ellipsis (\"...\" is not supported)")
    }
    let sides = text.components(separatedBy: "->")
    guard sides.count <= 2, sides[0].allSatisfy({ $0.isLetter || $0 == "," }),
      sides.count == 1 || sides[1].allSatisfy(\.isLetter)
    else { throw .badAttribute(op: "onnx.Einsum", key: "equation", expected: "letters, commas and one \"->\"") }
    let terms = sides[0].components(separatedBy: ",")
    var letters: [Character] = []
    for c in terms.joined() where !letters.contains(c) { letters.append(c) }
    let out: [Character]
    if sides.count == 2 {
      out = Array(sides[1])
      guard out.allSatisfy(letters.contains), Set(out).count == out.count else {
        throw .badAttribute(
          op: "onnx.Einsum", key: "equation", expected: "output letters that appear once, in the operands")
      }
    } else {
      let all = terms.joined()
      out = letters.filter { c in all.filter { $0 == c }.count == 1 }.sorted()
    }
    self.equation = equation
    operands = terms.map { $0.map { letters.firstIndex(of: $0)! } }
    output = out.map { letters.firstIndex(of: $0)! }
    letterCount = letters.count
  }

  public func copy() -> Layer { try! ONNXEinsum(equation: equation) }

  /// Each letter's size, from the operands' shapes; nil when they disagree or ranks differ.
  func sizes(_ shapes: [[Int]]) -> [Int]? {
    guard shapes.count == operands.count else { return nil }
    var sizes = [Int?](repeating: nil, count: letterCount)
    for (letters, shape) in zip(operands, shapes) {
      guard letters.count == shape.count else { return nil }
      for (l, d) in zip(letters, shape) {
        if let s = sizes[l], s != d { return nil }
        sizes[l] = d
      }
    }
    return sizes.map { $0 ?? 1 }
  }

  /// Calls `body` with each operand's flat index and the output's, for every assignment.
  func loop(_ sizes: [Int], _ body: ([Int], Int) -> Void) {
    func strides(_ letters: [Int]) -> [Int] {
      var s = [Int](repeating: 0, count: letterCount)
      var step = 1
      for l in letters.reversed() {
        s[l] += step
        step *= sizes[l]
      }
      return s
    }
    let operandStrides = operands.map(strides)
    let outputStrides = strides(output)
    guard !sizes.contains(0) else { return }
    var index = [Int](repeating: 0, count: letterCount)
    while true {
      let flats = operandStrides.map { s in zip(s, index).reduce(0) { $0 + $1.0 * $1.1 } }
      body(flats, zip(outputStrides, index).reduce(0) { $0 + $1.0 * $1.1 })
      var l = letterCount - 1
      while l >= 0 {
        index[l] += 1
        if index[l] < sizes[l] { break }
        index[l] = 0
        l -= 1
      }
      if l < 0 { return }
    }
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let sizes = sizes(inputs.map(\.shape))!
    let values = inputs.map { $0.value.contiguous().scalars }
    let outShape = output.map { sizes[$0] }
    var y = [Float](repeating: 0, count: outShape.reduce(1, *))
    loop(sizes) { flats, at in
      var product: Float = 1
      for (k, f) in flats.enumerated() { product *= values[k][f] }
      y[at] += product
    }
    let shapes = inputs.map(\.shape)
    return Variable(Tensor(shape: outShape, scalars: y), parents: inputs) { [self] g in
      let gs = g.contiguous().scalars
      var grads = shapes.map { [Float](repeating: 0, count: $0.reduce(1, *)) }
      loop(sizes) { flats, at in
        for k in flats.indices {
          var product = gs[at]
          for (j, f) in flats.enumerated() where j != k { product *= values[j][f] }
          grads[k][flats[k]] += product
        }
      }
      return zip(shapes, grads).map { Tensor(shape: $0, scalars: $1) }
    }
  }
}
