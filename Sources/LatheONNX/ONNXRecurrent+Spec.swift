import LatheTensor

// `ONNXRecurrent` as a model file's layer spec and back, and its shape rule (see
// ONNXShapeRules.swift for why every imported layer has one).

extension ONNXRecurrent {
  /// The size of each input vector, from W.
  public var inputSize: Int { weight.shape[2] }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "direction": .string(direction.rawValue), "hidden_size": .int(hiddenSize), "input_size": .int(inputSize),
      "activations": .string(activations.map(\.name).joined(separator: ",")),
      "input_forget": .bool(inputForget), "linear_before_reset": .bool(linearBeforeReset),
      "layout": .int(batchFirst ? 1 : 0), "sequence_lens": .bool(hasSequenceLengths),
      "initial_h": .bool(hasInitialH), "initial_c": .bool(hasInitialC), "bias": .bool(bias != nil),
      "peephole": .bool(peephole != nil),
    ]
    for (k, activation) in activations.enumerated() {
      attributes["alpha_\(k)"] = .float(activation.alpha)
      attributes["beta_\(k)"] = .float(activation.beta)
    }
    if let clip { attributes["clip"] = .float(clip) }
    return LayerSpec(op: "onnx.\(kind.rawValue)", attributes: attributes)
  }

  /// The layer a spec describes, with zero weights the file then fills; nil for other ops.
  static func make(_ s: LayerSpec) throws(ModelError) -> Layer? {
    guard s.op.hasPrefix("onnx."), let kind = Kind(rawValue: String(s.op.dropFirst(5))) else { return nil }
    guard let direction = Direction(rawValue: try s.string("direction", default: "forward")) else {
      throw .badAttribute(op: s.op, key: "direction", expected: "forward, reverse or bidirectional")
    }
    let (hidden, size) = (try s.int("hidden_size"), try s.int("input_size"))
    let (d, width) = (direction.count, kind.gates * hidden)
    // The sizes come from a file: check them before allocating the zeros.
    guard hidden > 0, size > 0, ONNXShapes.product([d, width, size + hidden + 2]) != nil else {
      throw .badAttribute(op: s.op, key: "hidden_size/input_size", expected: "positive sizes whose weights fit")
    }
    let names = try s.string("activations", default: "").split(separator: ",").map(String.init)
    var activations: [ONNXRecurrentActivation] = []
    for (k, name) in names.enumerated() {
      let (alpha, beta) = (try s.float("alpha_\(k)", default: 0), try s.float("beta_\(k)", default: 0))
      guard let activation = ONNXRecurrentActivation(name, alpha: alpha, beta: beta) else {
        throw .badAttribute(op: s.op, key: "activations", expected: "ONNX activation names, not \(name)")
      }
      activations.append(activation)
    }
    guard activations.count == d * kind.activationCount else {
      throw .badAttribute(
        op: s.op, key: "activations", expected: "\(kind.activationCount) per direction, \(d * kind.activationCount)")
    }
    let clip: Float? = s.attributes["clip"] == nil ? nil : try s.float("clip", default: 0)
    let layout = try s.int("layout")
    guard layout == 0 || layout == 1 else { throw .badAttribute(op: s.op, key: "layout", expected: "0 or 1") }
    let peephole = try s.bool("peephole", default: false)
    guard kind == .lstm || !peephole else { throw .badAttribute(op: s.op, key: "peephole", expected: "LSTM only") }
    return ONNXRecurrent(
      kind, direction: direction, hiddenSize: hidden, activations: activations, clip: clip,
      inputForget: try s.bool("input_forget", default: false),
      linearBeforeReset: try s.bool("linear_before_reset", default: false), batchFirst: layout == 1,
      hasSequenceLengths: try s.bool("sequence_lens", default: false),
      hasInitialH: try s.bool("initial_h", default: false), hasInitialC: try s.bool("initial_c", default: false),
      weight: .zeros([d, width, size]), recurrence: .zeros([d, width, hidden]),
      bias: try s.bool("bias", default: false) ? .zeros([d, 2 * width]) : nil,
      peephole: peephole ? .zeros([d, 3 * hidden]) : nil)
  }
}

extension ONNXRecurrent: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let expected = 1 + [hasSequenceLengths, hasInitialH, hasInitialC].filter { $0 }.count
    guard inputs.count == expected else { throw ShapeError("takes \(expected) inputs, gets \(inputs.count)") }
    let x = inputs[0]
    guard x.count == 3, x[2] == inputSize else {
      throw ShapeError("X \(x) should be [\(batchFirst ? "batch, seq_length" : "seq_length, batch"), \(inputSize)]")
    }
    let (steps, batch) = batchFirst ? (x[1], x[0]) : (x[0], x[1])
    guard steps > 0 else { throw ShapeError("X \(x) has no steps (seq_length 0)") }
    let d = direction.count
    let state = batchFirst ? [batch, d, hiddenSize] : [d, batch, hiddenSize]
    var k = 1
    if hasSequenceLengths {
      guard inputs[k] == [batch] else { throw ShapeError("sequence_lens \(inputs[k]) should be [\(batch)]") }
      k += 1
    }
    for (present, name) in [(hasInitialH, "initial_h"), (hasInitialC, "initial_c")] where present {
      guard inputs[k] == state else { throw ShapeError("\(name) \(inputs[k]) should be \(state) for X \(x)") }
      k += 1
    }
    let packed = steps + kind.states
    return batchFirst ? [batch, packed, d, hiddenSize] : [packed, d, batch, hiddenSize]
  }
}
