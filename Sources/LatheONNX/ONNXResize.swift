import Foundation
import LatheTensor

/// ONNX Resize (and the older Upsample): nearest, N-linear and cubic interpolation over any
/// axes. Interpolation is separable, so the layer resamples one axis at a time; each step is a
/// fixed linear map (a few taps per output index, with weights that depend only on the shapes),
/// and its gradient is that map's transpose, a scatter-add of the incoming gradient.
/// The arithmetic of coordinates and weights follows onnx's reference implementation
/// (`onnx/reference/ops/op_resize.py`), in Double as it is, so that node tests agree exactly on
/// which neighbour a nearest lookup picks.
public final class ONNXResize: Layer {
  public enum Mode: String, Sendable, CaseIterable {
    case nearest, linear, cubic
  }

  /// How an output index maps back to an input coordinate (the attribute's values).
  public enum Coordinates: String, Sendable, CaseIterable {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric
    case tfCropAndResize = "tf_crop_and_resize"
  }

  public enum Nearest: String, Sendable, CaseIterable {
    case roundPreferFloor = "round_prefer_floor"
    case roundPreferCeil = "round_prefer_ceil"
    case floor, ceil
    /// Not an attribute value: Upsample's and opset-10 Resize's rule, ceil along axes that
    /// shrink and floor along those that grow.
    case simple
  }

  /// With sizes: stretch each axis to its size, or scale all resized axes alike so the result
  /// fits inside (`notLarger`) or covers (`notSmaller`) the sizes.
  public enum AspectPolicy: String, Sendable, CaseIterable {
    case stretch
    case notLarger = "not_larger"
    case notSmaller = "not_smaller"
  }

  /// One entry per input axis. A size of -1 leaves that axis as it is (an axis Resize's `axes`
  /// does not name); keeping it unresolved lets a batch axis vary between calls.
  public enum Target: Equatable, Sendable {
    case scales([Float])
    case sizes([Int])
  }

  public struct Options: Equatable, Sendable {
    public var mode: Mode = .nearest
    public var coordinates: Coordinates = .halfPixel
    public var nearest: Nearest = .roundPreferFloor
    public var cubicA: Float = -0.75
    public var excludeOutside = false
    /// The value of outputs that tf_crop_and_resize maps outside the input.
    public var extrapolation: Float = 0
    /// Widens linear and cubic kernels by 1/scale when downsampling (opset 18).
    public var antialias = false
    public var policy: AspectPolicy = .stretch

    public init() {}
  }

  public let target: Target
  /// Empty, or per axis the start then (after all starts) the end of the region of interest, as
  /// fractions of the input; used by tf_crop_and_resize only.
  public let roi: [Float]
  public let options: Options

  public init(_ target: Target, roi: [Float] = [], options: Options = Options()) {
    self.target = target
    self.roi = roi
    self.options = options
  }

  public func copy() -> Layer { ONNXResize(target, roi: roi, options: options) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    var y = inputs[0]
    let shape = y.shape
    let axes = plan(shape)
    for d in shape.indices {
      let (scale, size) = axes[d]
      // Identity along this axis, as the reference skips it (its taps would be one weight of 1).
      let region = roi.isEmpty || options.coordinates != .tfCropAndResize ? nil : (roi[d], roi[d + shape.count])
      let unchanged = abs(scale - 1) <= 1e-9 && size == shape[d] && (region.map { $0 == (0, 1) } ?? true)
      guard !unchanged else { continue }
      y = resample(y, axis: d, taps: taps(input: shape[d], output: size, scale: scale, region: region))
    }
    return y
  }

  /// Per axis the scale factor and the output size, from the input shape (for sizes, the scale
  /// is size / input; for scales, the size is ⌊scale · input⌋).
  func plan(_ shape: [Int]) -> [(scale: Double, size: Int)] {
    switch target {
    case .scales(let scales):
      return zip(shape, scales).map { n, s in (Double(s), Self.count(Double(s) * Double(n))) }
    case .sizes(let sizes):
      let named = shape.indices.filter { sizes[$0] >= 0 }
      var scales = shape.indices.map { d in sizes[d] < 0 || shape[d] == 0 ? 1 : Double(sizes[d]) / Double(shape[d]) }
      guard options.policy != .stretch, !named.isEmpty else {
        return shape.indices.map { (scales[$0], sizes[$0] < 0 ? shape[$0] : sizes[$0]) }
      }
      let picked = named.map { scales[$0] }
      let common = options.policy == .notLarger ? picked.min()! : picked.max()!
      for d in named { scales[d] = common }
      // The reference rounds half up: int(x + 0.5).
      return shape.indices.map { d in
        (scales[d], sizes[d] < 0 ? shape[d] : Self.count(common * Double(shape[d]) + 0.5))
      }
    }
  }

  /// ⌊v⌋, held below what Int holds (a file's scale may be huge); the shape rule refuses the
  /// sizes past `ShapeRules.maximumElements`.
  static func count(_ v: Double) -> Int {
    v.isFinite ? Int(Swift.min(Swift.max(v, 0), Double(ShapeRules.maximumElements) + 1).rounded(.down)) : 0
  }

  /// The linear map of one axis: output o reads input `index[o·width + k]` with weight
  /// `weight[o·width + k]`; where `outside[o]`, it is the extrapolation value instead.
  struct Taps {
    var width: Int
    var index: [Int]
    var weight: [Float]
    var outside: [Bool]
  }

  func taps(input: Int, output: Int, scale: Double, region: (Float, Float)?) -> Taps {
    let n = Double(input)
    let outputWidth = scale * n
    var result = Taps(width: 0, index: [], weight: [], outside: [Bool](repeating: false, count: output))
    for o in 0..<output {
      let y = Double(o)
      var x: Double
      switch options.coordinates {
      case .alignCorners: x = outputWidth == 1 ? 0 : y * (n - 1) / (outputWidth - 1)
      case .asymmetric: x = y / scale
      case .tfCropAndResize:
        let (start, end) = region.map { (Double($0.0), Double($0.1)) } ?? (0, 1)
        x = outputWidth == 1 ? (end - start) * (n - 1) / 2 : y * (end - start) * (n - 1) / (outputWidth - 1)
        x += start * (n - 1)
        result.outside[o] = x < 0 || x > n - 1
      case .pytorchHalfPixel: x = outputWidth == 1 ? -0.5 : (y + 0.5) / scale - 0.5
      case .halfPixel: x = (y + 0.5) / scale - 0.5
      case .halfPixelSymmetric:
        // Centres the output on the input when the output size was rounded from scale · input.
        let offset = n / 2 * (1 - Double(output) / outputWidth)
        x = offset + (y + 0.5) / scale - 0.5
      }
      // The ratio lies in (0, 1]: an exact coordinate counts as the far end of the cell to its left.
      let ratio = x == x.rounded(.down) ? 1 : x - x.rounded(.down)
      var coefficients = self.coefficients(ratio, scale: scale)
      let width = coefficients.count
      result.width = width
      // The `width` input indices nearest x, ties to the smaller, on the input padded by its edges.
      let pad = (width + 1) / 2
      let padded = x + Double(pad)
      let p = padded.rounded(.down)
      let fraction = padded - p
      let offset =
        width % 2 == 0
        ? (fraction == 0 ? -(width / 2) : -(width / 2) + 1)
        : (fraction <= 0.5 ? -((width - 1) / 2) : -((width - 1) / 2) + 1)
      let first = Int(p) + offset - pad
      if options.excludeOutside {
        for k in 0..<width where first + k < 0 || first + k >= input { coefficients[k] = 0 }
        let sum = coefficients.reduce(0, +)
        if sum != 0 { coefficients = coefficients.map { $0 / sum } }
      }
      for k in 0..<width {
        result.index.append(Swift.min(Swift.max(first + k, 0), input - 1))
        result.weight.append(Float(coefficients[k]))
      }
    }
    return result
  }

  /// The kernel's weights for the taps around a coordinate `ratio` past the tap before it.
  func coefficients(_ ratio: Double, scale: Double) -> [Double] {
    switch options.mode {
    case .nearest:
      guard ratio != 1 else { return [0, 1] }
      switch options.nearest {
      case .roundPreferFloor: return ratio <= 0.5 ? [1, 0] : [0, 1]
      case .roundPreferCeil: return ratio < 0.5 ? [1, 0] : [0, 1]
      case .floor: return [1, 0]
      case .ceil: return [0, 1]
      case .simple: return scale < 1 ? [0, 1] : [1, 0]
      }
    case .linear:
      guard options.antialias else { return [1 - ratio, ratio] }
      let s = Swift.min(scale, 1)
      let start = Int((-1 / s).rounded(.down)) + 1
      let weights = (start..<(2 - start)).map { i in Swift.min(Swift.max(1 - abs((Double(i) - ratio) * s), 0), 1) }
      let sum = weights.reduce(0, +)
      return weights.map { $0 / sum }
    case .cubic:
      let a = Double(options.cubicA)
      guard options.antialias else {
        let (r, q) = (ratio, 1 - ratio)
        return [
          ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * q - (a + 3)) * q * q + 1,
          ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a,
        ]
      }
      func kernel(_ v: Double) -> Double {
        let x = abs(v)
        if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
        return x < 2 ? a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a : 0
      }
      let s = Swift.min(scale, 1)
      let start = Int((-2 / s).rounded(.down)) + 1
      let weights = (start..<(2 - start)).map { kernel(s * (Double($0) - ratio)) }
      let sum = weights.reduce(0, +)
      return weights.map { $0 / sum }
    }
  }

  /// One axis through its taps: y[a, o, b] = Σₖ w[o, k] · x[a, index[o, k], b] (or the
  /// extrapolation value); the gradient scatters back through the same taps.
  func resample(_ x: Variable, axis: Int, taps: Taps) -> Variable {
    let shape = x.shape
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let (n, m, width) = (shape[axis], taps.outside.count, taps.width)
    var outShape = shape
    outShape[axis] = m
    let fill = options.extrapolation
    // Nearest modes pick one source row per output row with weight 1: a plain gather, without
    // the weighted sum's zeroing and per-element tap loop (a text detector's six nearest
    // upsamplings were 9% of its time that way).
    let gather = width == 1 && !taps.outside.contains(true) && taps.weight.allSatisfy { $0 == 1 }
    let y = x.value.contiguous().withUnsafeBufferPointer { src in
      Tensor<Float>(shape: outShape) { dst in
        if gather {
          taps.index.withUnsafeBufferPointer { index in
            for a in 0..<outer {
              let from = src.baseAddress! + a * n * inner
              let to = dst.baseAddress! + a * m * inner
              if inner == 1 {
                for o in 0..<m { to[o] = from[index[o]] }
              } else {
                for o in 0..<m { (to + o * inner).update(from: from + index[o] * inner, count: inner) }
              }
            }
          }
          return
        }
        for a in 0..<outer {
          for o in 0..<m {
            let base = (a * m + o) * inner
            guard !taps.outside[o] else {
              for b in 0..<inner { dst[base + b] = fill }
              continue
            }
            for b in 0..<inner { dst[base + b] = 0 }
            for k in 0..<width {
              let w = taps.weight[o * width + k]
              guard w != 0 else { continue }
              let from = (a * n + taps.index[o * width + k]) * inner
              for b in 0..<inner { dst[base + b] += w * src[from + b] }
            }
          }
        }
      }
    }
    return Variable(y, parents: [x]) { g in
      let gx = g.contiguous().withUnsafeBufferPointer { gp in
        Tensor<Float>(shape: shape) { dst in
          dst.initialize(repeating: 0)
          for a in 0..<outer {
            for o in 0..<m where !taps.outside[o] {
              let base = (a * m + o) * inner
              for k in 0..<width {
                let w = taps.weight[o * width + k]
                guard w != 0 else { continue }
                let to = (a * n + taps.index[o * width + k]) * inner
                for b in 0..<inner { dst[to + b] += w * gp[base + b] }
              }
            }
          }
        }
      }
      return [gx]
    }
  }
}
