/// A layer that can tell, without computing anything, the shape it outputs for inputs of given
/// shapes, or why inputs of those shapes cannot run through it.
///
/// Kernels trust their shapes (a mismatch is a trap, not an error), so a model read from a file
/// is checked node by node with these rules before it runs: a damaged or hand-edited file
/// becomes a one-line error naming the node instead of a crash inside a kernel.
public protocol ShapeChecking: Layer {
  /// `inputs` include the batch axis.
  func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int]
}

/// Why a node cannot run on inputs of the shapes it would get.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
  public var reason: String
  public init(_ reason: String) { self.reason = reason }
  public var description: String { reason }
}

/// The checked arithmetic every shape rule shares.
public enum ShapeRules {
  /// The most elements one value may hold for a batch of one: 2^31 floats is 8 GiB, far past
  /// any model Lathe runs and well short of where sizes overflow.
  public static let maximumElements = 1 << 31

  /// The element count of `shape`, or an error when a dimension is negative, or it or the
  /// product is beyond `maximumElements` (each dimension on its own too: after a 0, a huge one
  /// would not show in the product but would overflow the arithmetic of later layers).
  @discardableResult
  public static func elements(_ shape: [Int]) throws(ShapeError) -> Int {
    var count = 1
    for d in shape {
      guard d >= 0 else { throw ShapeError("shape \(shape) has a negative dimension") }
      guard d <= maximumElements else { throw ShapeError("shape \(shape) has a dimension over \(maximumElements)") }
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow, product <= maximumElements else {
        throw ShapeError("shape \(shape) holds more than \(maximumElements) values")
      }
      count = product
    }
    return count
  }

  /// Exactly `count` inputs.
  public static func inputs(_ inputs: [[Int]], count: Int) throws(ShapeError) {
    guard inputs.count == count else { throw ShapeError("reads \(inputs.count) inputs, needs \(count)") }
  }

  /// A fully connected layer over the last axis: [..., in] -> [..., out], rank 2 or more.
  public static func linear(_ inputs: [[Int]], in features: Int, out outputs: Int) throws(ShapeError) -> [Int] {
    try Self.inputs(inputs, count: 1)
    let x = inputs[0]
    guard x.count >= 2 else {
      throw ShapeError("needs an input of rank 2 or more ([batch, ..., \(features)]), gets \(x)")
    }
    guard x[x.count - 1] == features else {
      throw ShapeError("needs \(features) features on the last axis, gets \(x)")
    }
    return x.dropLast() + [outputs]
  }

  /// A 2-D convolution or pooling window over [N, C, H, W]; `channels` is what the input must
  /// have (nil: any), `outputs` what the output has (nil: the input's).
  public static func window(
    _ inputs: [[Int]], geometry: WindowGeometry, channels: Int?, outputs: Int?
  ) throws(ShapeError) -> [Int] {
    try Self.inputs(inputs, count: 1)
    let x = inputs[0]
    guard x.count == 4 else { throw ShapeError("needs input [batch, channels, height, width], gets \(x)") }
    if let channels, x[1] != channels {
      throw ShapeError("needs \(channels) input channels, gets \(x)")
    }
    // Window sizes reach the C kernels as 32-bit integers; padding and dilation far past any
    // image would overflow there.
    let limit = 1 << 20
    let values = [geometry.kernelHeight, geometry.kernelWidth] + geometry.stride + geometry.padding + geometry.dilation
    guard values.allSatisfy({ $0 >= 0 && $0 <= limit }), geometry.stride.count == 2, geometry.padding.count == 4,
      geometry.dilation.count == 2, geometry.stride.allSatisfy({ $0 > 0 }), geometry.dilation.allSatisfy({ $0 > 0 })
    else {
      throw ShapeError(
        "window kernel \([geometry.kernelHeight, geometry.kernelWidth]), stride \(geometry.stride), "
          + "padding \(geometry.padding), dilation \(geometry.dilation) is out of range (each 0...\(limit), stride and dilation > 0)"
      )
    }
    guard x[2] <= limit, x[3] <= limit else { throw ShapeError("input \(x) is too large for a window") }
    let (height, width) = geometry.outputSize(height: x[2], width: x[3])
    guard height > 0, width > 0 else {
      throw ShapeError("a \(geometry.kernelHeight)x\(geometry.kernelWidth) window does not fit input \(x)")
    }
    let shape = [x[0], outputs ?? x[1], height, width]
    try elements(shape)
    return shape
  }

  /// Elementwise layers: one input, the same shape out.
  public static func same(_ inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try Self.inputs(inputs, count: 1)
    return inputs[0]
  }
}

extension Model {
  /// Every node's output shape for a batch of one, found by the layers' shape rules alone.
  /// Throws, naming the node, when a node cannot run on what it gets; stops (returning what it
  /// has) at the first layer without rules, whose shapes only running it can tell.
  @discardableResult
  public func checkShapes() throws(ModelError) -> [String: [Int]] {
    var shapes: [String: [Int]] = ["input": [1] + inputShape]
    for input in extraInputs { shapes[input.name] = input.exampleShape }
    do {
      try ShapeRules.elements([1] + inputShape)
    } catch {
      throw .badShape(node: "input", reason: error.reason)
    }
    for node in nodes {
      guard let layer = node.layer as? ShapeChecking else { return shapes }
      let inputs = node.inputs.compactMap { shapes[$0] }
      do {
        let shape = try layer.outputShape(for: inputs)
        try ShapeRules.elements(shape)
        shapes[node.name] = shape
      } catch {
        throw .badShape(node: node.name, reason: "\(node.layer.op) \(error.reason)")
      }
    }
    return shapes
  }
}

// MARK: - The built-in layers' rules

extension Linear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: self.inputs, out: outputs)
  }
}

extension Conv2d: ShapeChecking {
  /// The window of this convolution, for shape rules.
  public var geometry: WindowGeometry {
    WindowGeometry(kernel: [weight.shape[2], weight.shape[3]], stride: stride, padding: padding, dilation: dilation)
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.window(inputs, geometry: geometry, channels: weight.shape[1] * groups, outputs: weight.shape[0])
  }
}

extension BatchNorm: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ShapeRules.same(inputs)
    guard x.count >= 2, x[1] == channels else { throw ShapeError("needs \(channels) channels on axis 1, gets \(x)") }
    return x
  }
}

extension Pool2d: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.window(inputs, geometry: geometry, channels: nil, outputs: nil)
  }
}

extension Function: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    switch kind {
    case .relu, .gelu, .geluTanh, .silu, .sigmoid, .tanh, .leakyRelu, .dropout:
      return try ShapeRules.same(inputs)
    case .softmax, .logSoftmax:
      let x = try ShapeRules.same(inputs)
      guard x.count >= 1 else { throw ShapeError("needs at least one axis, gets a scalar") }
      return x
    case .flatten(let axis):
      let x = try ShapeRules.same(inputs)
      guard (1...Swift.max(1, x.count)).contains(axis) else {
        throw ShapeError("start axis \(axis) must keep the batch axis: 1...\(x.count) for input \(x)")
      }
      return Array(x.prefix(axis)) + [try ShapeRules.elements(Array(x.dropFirst(axis)))]
    case .globalAvgPool:
      let x = try ShapeRules.same(inputs)
      guard x.count == 4 else { throw ShapeError("needs input [batch, channels, height, width], gets \(x)") }
      return [x[0], x[1], 1, 1]
    case .add:
      // The sum broadcasts as NumPy does (imported ONNX Add relies on it).
      guard var joined = inputs.first else { throw ShapeError("adds no inputs") }
      for x in inputs.dropFirst() {
        guard let next = broadcastShape(joined, x) else {
          throw ShapeError("adds inputs that do not broadcast: \(inputs)")
        }
        joined = next
      }
      return joined
    case .concat(let axis):
      guard let first = inputs.first, (0..<first.count).contains(axis) else {
        throw ShapeError("concatenates on axis \(axis), gets \(inputs)")
      }
      var joined = first
      for x in inputs.dropFirst() {
        guard x.count == first.count,
          zip(x, first).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 == $0.element.1 })
        else { throw ShapeError("concatenates inputs that differ only on axis \(axis), gets \(inputs)") }
        joined[axis] += x[axis]
      }
      return joined
    }
  }
}
