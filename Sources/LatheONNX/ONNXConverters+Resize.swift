import Foundation
import LatheTensor

// Resize (opsets 10, 11, 13, 18, 19) and Upsample (7 and 9, deprecated since 10) onto `ONNXResize`.

extension ONNXConverters {
  static func resize(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let x = try n.required(0, "X")
    let rank = n.shape(x).count
    var options = ONNXResize.Options()
    options.mode = try choice(n, "mode", modeAliases, .nearest)
    // Upsample and opset-10 Resize have neither coordinate modes nor nearest modes: they sample
    // at output / scale, rounded up when downsampling and down otherwise (ONNX Runtime's rule,
    // which opset 10's node tests expect; numpy.repeat's for integer scales).
    let legacy = n.node.opType == "Upsample" || n.opset < 11
    let target: ONNXResize.Target
    var roi: [Float] = []
    if legacy {
      options.coordinates = .asymmetric
      options.nearest = .simple
      // Upsample-7 holds its scales as an attribute, later forms as an input.
      if let scales = try a.floats("scales") {
        target = .scales(scales)
      } else {
        target = .scales(try n.requiredConstant(1, "scales").floats.scalars)
      }
    } else {
      options.coordinates = try choice(n, "coordinate_transformation_mode", [:], .halfPixel)
      options.nearest = try choice(n, "nearest_mode", [:], .roundPreferFloor)
      guard options.nearest != .simple else { throw NodeError("nearest_mode \"simple\" is not an ONNX mode") }
      options.policy = try choice(n, "keep_aspect_ratio_policy", [:], .stretch)
      options.cubicA = try a.float("cubic_coeff_a", -0.75)
      options.excludeOutside = try a.int("exclude_outside", 0) != 0
      options.extrapolation = try a.float("extrapolation_value", 0)
      options.antialias = try a.int("antialias", 0) != 0
      guard !options.antialias || options.mode != .nearest else {
        throw NodeError("antialias applies to linear and cubic modes, not nearest")
      }
      // Opset 18's axes name the axes that scales, sizes and roi describe; the rest stay.
      let rawAxes = try a.ints("axes") ?? Array(0..<rank)
      guard rawAxes.allSatisfy({ $0 >= -rank && $0 < rank }),
        Set(rawAxes.map { ($0 + rank) % rank }).count == rawAxes.count
      else { throw NodeError("axes \(rawAxes) should be distinct axes of the rank-\(rank) input") }
      let axes = rawAxes.map { ($0 + rank) % rank }
      // Empty scales or sizes count as absent (opset 11 needs a scales input even with sizes).
      let scales = try n.constant(2, "scales").flatMap { $0.count == 0 ? nil : $0.floats.scalars }
      let sizes = try n.constant(3, "sizes").flatMap { $0.count == 0 ? nil : $0.ints }
      switch (scales, sizes) {
      case (let scales?, nil):
        guard scales.count == axes.count, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
          throw NodeError("scales \(scales) should be \(axes.count) positive factors, one per axis of \(axes)")
        }
        var full = [Float](repeating: 1, count: rank)
        for (k, d) in axes.enumerated() { full[d] = scales[k] }
        target = .scales(full)
      case (nil, let sizes?):
        guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
          throw NodeError("sizes \(sizes) should be \(axes.count) sizes, one per axis of \(axes)")
        }
        var full = [Int](repeating: -1, count: rank)
        for (k, d) in axes.enumerated() { full[d] = sizes[k] }
        target = .sizes(full)
      case (nil, nil): throw NodeError("needs scales or sizes, and has neither")
      case (_?, _?): throw NodeError("has both scales and sizes; ONNX allows one")
      }
      if options.coordinates == .tfCropAndResize {
        guard let given = try n.constant(1, "roi")?.floats.scalars, given.count == 2 * axes.count else {
          throw NodeError("tf_crop_and_resize needs an roi input of \(2 * axes.count) values (starts, then ends)")
        }
        roi = [Float](repeating: 0, count: rank) + [Float](repeating: 1, count: rank)
        for (k, d) in axes.enumerated() {
          roi[d] = given[k]
          roi[rank + d] = given[axes.count + k]
        }
      }
    }
    if case .scales(let scales) = target, scales.count != rank || scales.contains(where: { !($0 > 0) }) {
      throw NodeError("scales \(scales) should be \(rank) positive factors, one per axis of \(n.shape(x))")
    }
    n.define(0, try n.emit(ONNXResize(target, roi: roi, options: options), [x], hints: [n.hint(0)]))
  }

  /// Upsample's opset 7 spells linear "bilinear" in some exporters; both mean the same weights.
  private static let modeAliases: [String: ONNXResize.Mode] = ["bilinear": .linear]

  /// A string attribute that must be one of an enum's raw values.
  private static func choice<T: RawRepresentable & CaseIterable>(
    _ n: NodeConversion, _ name: String, _ aliases: [String: T], _ fallback: T
  ) throws(NodeError) -> T where T.RawValue == String {
    let text = try n.attributes.string(name, fallback.rawValue)
    guard let value = T(rawValue: text) ?? aliases[text] else {
      throw NodeError("\(name) \"\(text)\" is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return value
  }
}
