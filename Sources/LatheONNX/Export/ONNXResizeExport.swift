import LatheTensor

/// Resize goes back out as Resize (opset 13's form, with scales or sizes as inputs). Sizes that
/// leave axes alone need opset 18's `axes`, as do antialias and keep_aspect_ratio_policy;
/// half_pixel_symmetric arrives with 19. Upsample's rounding rule has no attribute: it becomes
/// nearest_mode floor or ceil when every resized axis grows, or every one shrinks.
extension ONNXResize: ONNXExportable {
  var minimumONNXOpset: Int {
    if options.coordinates == .halfPixelSymmetric { return 19 }
    if case .sizes(let sizes) = target, sizes.contains(-1) { return 18 }
    if options.antialias || options.policy != .stretch { return 18 }
    return ONNXExporter.opsetVersion
  }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    var nearest = options.nearest
    if nearest == .simple {
      guard case .scales(let scales) = target else { throw export.fail("Upsample rounding with sizes") }
      let resized = scales.filter { $0 != 1 }
      if resized.allSatisfy({ $0 > 1 }) {
        nearest = .floor
      } else if resized.allSatisfy({ $0 < 1 }) {
        nearest = .ceil
      } else {
        throw export.fail("Upsample rounding on axes that both grow and shrink has no nearest_mode")
      }
    }
    var attributes = [
      Attr.string("mode", options.mode.rawValue),
      Attr.string("coordinate_transformation_mode", options.coordinates.rawValue),
      Attr.string("nearest_mode", nearest.rawValue),
      Attr.float("cubic_coeff_a", options.cubicA),
      Attr.int("exclude_outside", options.excludeOutside ? 1 : 0),
      Attr.float("extrapolation_value", options.extrapolation),
    ]
    if export.builder.opset >= 18 {
      attributes.append(Attr.int("antialias", options.antialias ? 1 : 0))
      attributes.append(Attr.string("keep_aspect_ratio_policy", options.policy.rawValue))
    }
    let rank = target.count
    // Only the resized axes, when `axes` says which they are.
    var axes = Array(0..<rank)
    if case .sizes(let sizes) = target, sizes.contains(-1) {
      axes = axes.filter { sizes[$0] >= 0 }
      attributes.append(Attr.ints("axes", axes))
    }
    let region = self.roi.isEmpty ? [] : axes.map { self.roi[$0] } + axes.map { self.roi[rank + $0] }
    let roi =
      self.roi.isEmpty
      ? "" : export.builder.floats("\(export.name).roi", Tensor(shape: [region.count], scalars: region))
    switch target {
    case .scales(let scales):
      let factors = export.builder.floats("\(export.name).scales", Tensor(shape: [scales.count], scalars: scales))
      export.emit("Resize", [export.inputs[0], roi, factors], attributes)
    case .sizes(let sizes):
      let given = export.builder.int64s("\(export.name).sizes", axes.map { sizes[$0] })
      export.emit("Resize", [export.inputs[0], roi, "", given], attributes)
    }
  }
}

extension ONNXResize.Target {
  var count: Int {
    switch self {
    case .scales(let scales): return scales.count
    case .sizes(let sizes): return sizes.count
    }
  }
}
