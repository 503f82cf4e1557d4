import Foundation
import LatheTensor

/// ONNX GridSample (opsets 16 and 20) over any number of spatial axes: X [N, C, D1…Dk] read at
/// the normalized positions grid [N, O1…Ok, k] holds (last entry first: x is Dk's), with
/// ONNX's reference rules for align_corners, the three padding modes and the three
/// interpolations. The sampling is separable: each axis gives a few taps (an index, or none
/// for a zero, and a weight), and a value is the sum over their product. The gradient goes to
/// X through the same weights and to the grid through the weights' slopes (0 for nearest, and
/// where border padding clamps). A grid with batch 1 serves every batch element: a fixed warp
/// stored in the file, since a Lathe model has one input and its batch varies.
public final class ONNXGridSample: Layer {
  public enum Mode: String, Sendable, CaseIterable { case linear, nearest, cubic }
  public enum Padding: String, Sendable, CaseIterable { case zeros, border, reflection }

  public let mode: Mode
  public let padding: Padding
  public let alignCorners: Bool

  public init(mode: Mode, padding: Padding, alignCorners: Bool) {
    self.mode = mode
    self.padding = padding
    self.alignCorners = alignCorners
  }

  public func copy() -> Layer { ONNXGridSample(mode: mode, padding: padding, alignCorners: alignCorners) }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.GridSample",
      attributes: [
        "mode": .string(mode.rawValue), "padding_mode": .string(padding.rawValue), "align_corners": .bool(alignCorners),
      ])
  }

  /// The layer an "onnx.GridSample" spec describes, or nil for another op (`ONNXLayers` asks).
  public convenience init?(spec: LayerSpec) throws(ModelError) {
    guard spec.op == "onnx.GridSample" else { return nil }
    guard let mode = Mode(rawValue: try spec.string("mode", default: "linear")),
      let padding = Padding(rawValue: try spec.string("padding_mode", default: "zeros"))
    else {
      throw .badAttribute(
        op: spec.op, key: "mode/padding_mode", expected: "linear, nearest or cubic; zeros, border or reflection")
    }
    self.init(mode: mode, padding: padding, alignCorners: try spec.bool("align_corners", default: false))
  }

  /// One axis's taps for one position: the index read (nil for a zero), its weight, and the
  /// weight's derivative with respect to the grid value.
  typealias Tap = (index: Int?, weight: Float, slope: Float)

  func taps(_ g: Float, size: Int) -> [Tap] {
    let length = Float(size)
    // Denormalize: -1 and 1 are the corner pixels' centres, or their outer edges.
    var x = alignCorners ? (g + 1) / 2 * (length - 1) : ((g + 1) * length - 1) / 2
    var chain: Float = alignCorners ? (length - 1) / 2 : length / 2
    if mode == .nearest { x = x.rounded(.toNearestOrEven) }
    let (low, high): (Float, Float) = alignCorners ? (0, length - 1) : (-0.5, length - 0.5)
    if x < low || x > high {
      switch padding {
      case .zeros: break
      case .border:
        x = min(max(x, 0), length - 1)
        chain = 0
      case .reflection:
        let (reflected, sign) = Self.reflect(x, low, high)
        x = reflected
        chain *= sign
      }
    }
    func index(_ i: Int) -> Int? {
      switch padding {
      case .zeros: return i >= 0 && i < size ? i : nil
      case .border: return min(max(i, 0), size - 1)
      case .reflection: return min(max(Int(Self.reflect(Float(i), low, high).value), 0), size - 1)
      }
    }
    switch mode {
    case .nearest: return [(index(Int(x)), 1, 0)]
    case .linear:
      let x0 = x.rounded(.down)
      let t = x - x0
      return [(index(Int(x0)), 1 - t, -chain), (index(Int(x0) + 1), t, chain)]
    case .cubic:
      let x0 = x.rounded(.down)
      let t = x - x0
      let (weights, slopes) = Self.cubic(t)
      return (0..<4).map { k in (index(Int(x0) - 1 + k), weights[k], slopes[k] * chain) }
    }
  }

  /// `x` reflected by the nearer border until it lies within [low, high], and the sign that
  /// reflection gives its derivative (ONNX's reference, after PyTorch).
  static func reflect(_ x: Float, _ low: Float, _ high: Float) -> (value: Float, sign: Float) {
    let range = high - low
    guard range > 0 else { return (low, 0) }
    if x < low {
      let d = low - x
      let n = Int(d / range)
      let r = d - Float(n) * range
      return n % 2 == 0 ? (low + r, -1) : (high - r, 1)
    }
    if x > high {
      let d = x - high
      let n = Int(d / range)
      let r = d - Float(n) * range
      return n % 2 == 0 ? (high - r, -1) : (low + r, 1)
    }
    return (x, 1)
  }

  /// Keys's cubic convolution weights (α = −0.75) for taps at −1, 0, 1, 2 from ⌊x⌋, and their
  /// derivatives in t = x − ⌊x⌋.
  static func cubic(_ t: Float) -> (weights: [Float], slopes: [Float]) {
    let a: Float = -0.75
    func outer(_ s: Float) -> Float { ((a * s - 5 * a) * s + 8 * a) * s - 4 * a }
    func outerSlope(_ s: Float) -> Float { (3 * a * s - 10 * a) * s + 8 * a }
    func inner(_ s: Float) -> Float { ((a + 2) * s - (a + 3)) * s * s + 1 }
    func innerSlope(_ s: Float) -> Float { (3 * (a + 2) * s - 2 * (a + 3)) * s }
    return (
      [outer(t + 1), inner(t), inner(1 - t), outer(2 - t)],
      [outerSlope(t + 1), innerSlope(t), -innerSlope(1 - t), -outerSlope(2 - t)]
    )
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let (x, grid) = (inputs[0], inputs[1])
    let (n, c) = (x.shape[0], x.shape[1])
    let sizes = Array(x.shape.dropFirst(2))
    let k = sizes.count
    let outputs = Array(grid.shape.dropFirst().dropLast())
    let positions = outputs.reduce(1, *)
    let plane = sizes.reduce(1, *)
    let strides = Tensor<Float>.rowMajorStrides(sizes)
    let (xv, gv) = (x.value.contiguous().scalars, grid.value.contiguous().scalars)
    // Per (batch, position): the flat spatial offsets read, their weights, and per axis the
    // weight's derivative (that axis's slope times the other axes' weights).
    var reads: [[(offset: Int, weight: Float, slopes: [Float])]] = []
    reads.reserveCapacity(n * positions)
    let shared = grid.shape[0] == 1
    func gridBase(_ b: Int, _ p: Int) -> Int { ((shared ? 0 : b) * positions + p) * k }
    for b in 0..<n {
      for p in 0..<positions {
        let base = gridBase(b, p)
        // grid's last axis lists the spatial axes last first.
        let perAxis = (0..<k).map { d in taps(gv[base + k - 1 - d], size: sizes[d]) }
        var combos: [(offset: Int, weight: Float, slopes: [Float])] = [(0, 1, Array(repeating: 1, count: k))]
        for d in 0..<k {
          combos = combos.flatMap { combo in
            perAxis[d].compactMap { tap -> (offset: Int, weight: Float, slopes: [Float])? in
              guard let i = tap.index else { return nil }
              let slopes = combo.slopes.indices.map { e in combo.slopes[e] * (e == d ? tap.slope : tap.weight) }
              return (combo.offset + i * strides[d], combo.weight * tap.weight, slopes)
            }
          }
        }
        reads.append(combos)
      }
    }
    var y = [Float](repeating: 0, count: n * c * positions)
    for b in 0..<n {
      for channel in 0..<c {
        let source = (b * c + channel) * plane
        for p in 0..<positions {
          var total: Float = 0
          for r in reads[b * positions + p] { total += r.weight * xv[source + r.offset] }
          y[(b * c + channel) * positions + p] = total
        }
      }
    }
    let (xShape, gridShape) = (x.shape, grid.shape)
    return Variable(Tensor(shape: [n, c] + outputs, scalars: y), parents: [x, grid]) { g in
      let gs = g.contiguous().scalars
      var dx = [Float](repeating: 0, count: xv.count)
      var dgrid = [Float](repeating: 0, count: gv.count)
      for b in 0..<n {
        for channel in 0..<c {
          let source = (b * c + channel) * plane
          for p in 0..<positions {
            let upstream = gs[(b * c + channel) * positions + p]
            let base = gridBase(b, p)
            for r in reads[b * positions + p] {
              dx[source + r.offset] += r.weight * upstream
              for d in 0..<k { dgrid[base + k - 1 - d] += r.slopes[d] * xv[source + r.offset] * upstream }
            }
          }
        }
      }
      return [Tensor(shape: xShape, scalars: dx), Tensor(shape: gridShape, scalars: dgrid)]
    }
  }
}

extension ONNXGridSample: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.inputs(inputs, count: 2)
    let (x, grid) = (inputs[0], inputs[1])
    guard x.count >= 3, grid.count == x.count, grid[0] == x[0] || grid[0] == 1, grid.last == x.count - 2 else {
      throw ShapeError("grid \(grid) does not fit input \(x): it should be [N or 1, outputs…, \(max(x.count - 2, 0))]")
    }
    return [x[0], x[1]] + grid.dropFirst().dropLast()
  }
}
