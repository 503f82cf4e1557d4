import LatheTensor

// `ONNXResize` as a model file's layer spec and back, and its shape rule.

extension ONNXResize {
  /// Float lists go in as text: a spec attribute holds single floats or integer lists only, and
  /// Swift prints a Float as the shortest text that parses back to the same value.
  static func text(_ values: [Float]) -> String { values.map { "\($0)" }.joined(separator: " ") }

  static func floats(_ text: String) -> [Float]? {
    let parts = text.split(separator: " ").map { Float(String($0)) }
    return parts.contains(nil) ? nil : parts.compactMap { $0 }
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "mode": .string(options.mode.rawValue),
      "coordinate_transformation_mode": .string(options.coordinates.rawValue),
      "nearest_mode": .string(options.nearest.rawValue),
      "cubic_coeff_a": .float(options.cubicA),
      "exclude_outside": .bool(options.excludeOutside),
      "extrapolation_value": .float(options.extrapolation),
      "antialias": .bool(options.antialias),
      "keep_aspect_ratio_policy": .string(options.policy.rawValue),
      "roi": .string(Self.text(roi)),
    ]
    switch target {
    case .scales(let scales): attributes["scales"] = .string(Self.text(scales))
    case .sizes(let sizes): attributes["sizes"] = .ints(sizes)
    }
    return LayerSpec(op: "onnx.Resize", attributes: attributes)
  }

  /// Rebuilds a layer from its spec; nil for other ops.
  static func make(_ s: LayerSpec) throws(ModelError) -> Layer? {
    guard s.op == "onnx.Resize" else { return nil }
    func choice<T: RawRepresentable>(_ key: String, _ fallback: T) throws(ModelError) -> T
    where T.RawValue == String, T: CaseIterable {
      guard let value = T(rawValue: try s.string(key, default: fallback.rawValue)) else {
        throw .badAttribute(op: s.op, key: key, expected: T.allCases.map(\.rawValue).joined(separator: ", "))
      }
      return value
    }
    func list(_ key: String) throws(ModelError) -> [Float] {
      guard let values = floats(try s.string(key, default: "")) else {
        throw .badAttribute(op: s.op, key: key, expected: "floats separated by spaces")
      }
      return values
    }
    var options = Options()
    options.mode = try choice("mode", options.mode)
    options.coordinates = try choice("coordinate_transformation_mode", options.coordinates)
    options.nearest = try choice("nearest_mode", options.nearest)
    options.policy = try choice("keep_aspect_ratio_policy", options.policy)
    options.cubicA = try s.float("cubic_coeff_a", default: options.cubicA)
    options.excludeOutside = try s.bool("exclude_outside", default: false)
    options.extrapolation = try s.float("extrapolation_value", default: 0)
    options.antialias = try s.bool("antialias", default: false)
    let target: Target =
      s.attributes["sizes"] != nil ? .sizes(try s.ints("sizes")) : .scales(try list("scales"))
    return ONNXResize(target, roi: try list("roi"), options: options)
  }
}

extension ONNXResize: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    switch target {
    case .scales(let scales):
      guard scales.count == x.count, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw ShapeError("scales \(scales) should be \(x.count) positive factors, one per axis of \(x)")
      }
    case .sizes(let sizes):
      guard sizes.count == x.count, sizes.allSatisfy({ $0 >= -1 && $0 <= ShapeRules.maximumElements }) else {
        throw ShapeError("sizes \(sizes) should be \(x.count) sizes (or -1 to keep an axis), one per axis of \(x)")
      }
    }
    guard roi.isEmpty || roi.count == 2 * x.count else {
      throw ShapeError("roi \(roi) should hold a start and an end for each of the \(x.count) axes of \(x)")
    }
    let out = plan(x).map(\.size)
    // An empty axis has nothing to interpolate from.
    for d in x.indices where x[d] == 0 && out[d] != 0 {
      throw ShapeError("axis \(d) of \(x) is empty and cannot be resized to \(out[d])")
    }
    // Sizes and scales come from a file: the product must be a tensor Lathe can hold.
    guard out.allSatisfy({ $0 <= ShapeRules.maximumElements }), ONNXShapes.product(out) != nil else {
      throw ShapeError("output \(out) of \(x) holds more than \(ShapeRules.maximumElements) values")
    }
    return out
  }
}
