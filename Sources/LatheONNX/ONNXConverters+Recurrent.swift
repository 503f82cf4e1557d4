import Foundation
import LatheTensor

/// RNN, GRU and LSTM onto `ONNXRecurrent`. W, R, B and P must be constants: they become the
/// layer's trainable parameters. X, `sequence_lens`, `initial_h` and `initial_c` may come at
/// run time. The layer packs Y, Y_h and Y_c along the sequence axis; each output the graph
/// reads is cut from it by a slice (Y) or a gather (the states), so the weights are held once.
extension ONNXConverters {
  /// Every operator `recurrent` converts; `supported` lists them too.
  static let recurrentOps: Set<String> = ["RNN", "GRU", "LSTM"]

  static func recurrent(_ n: NodeConversion) throws(NodeError) {
    guard let kind = ONNXRecurrent.Kind(rawValue: n.node.opType) else { throw NodeError("operator is not supported") }
    let a = n.attributes
    let x = try n.required(0, "X")
    let xShape = n.shape(x)
    guard xShape.count == 3 else { throw NodeError("X \(xShape) should have rank 3") }
    let name = try a.string("direction", "forward")
    guard let direction = ONNXRecurrent.Direction(rawValue: name) else {
      throw NodeError("direction \"\(name)\" is not forward, reverse or bidirectional")
    }
    let layout = try a.int("layout", 0)
    guard layout == 0 || layout == 1 else { throw NodeError("layout \(layout) is not 0 or 1") }
    let w = try n.requiredConstant(1, "W").floats
    let r = try n.requiredConstant(2, "R").floats
    let hidden = try a.int("hidden_size", r.shape.last ?? 0)
    let (d, width) = (direction.count, kind.gates * hidden)
    let expected: [(Tensor<Float>?, String, [Int])] = [
      (w, "W", [d, width, xShape[2]]), (r, "R", [d, width, hidden]),
      (try n.constant(3, "B")?.floats, "B", [d, 2 * width]),
      (kind == .lstm ? try n.constant(7, "P")?.floats : nil, "P", [d, 3 * hidden]),
    ]
    guard hidden > 0 else { throw NodeError("hidden_size \(hidden) should be positive") }
    for (tensor, what, shape) in expected where tensor.map({ $0.shape != shape }) ?? false {
      throw NodeError(
        "\(what) \(tensor?.shape ?? []) should be \(shape) for \(d) direction(s), hidden_size \(hidden) and X \(xShape)"
      )
    }
    var inputs = [try n.input(4), try n.input(5), kind == .lstm ? try n.input(6) : nil]
    // Constant lengths that are all seq_length change nothing; dropped, they do not tie the
    // layer to the file's batch size (a Lathe model's shapes are checked at other batches).
    let steps = n.shapes(x).map { $0[layout == 1 ? 1 : 0] }
    if let lengths = inputs[0]?.constant, Set(steps).count == 1 {
      guard lengths.ints.allSatisfy({ 0...steps[0] ~= $0 }) else {
        throw NodeError("sequence_lens \(lengths.ints) should each be 0 to seq_length \(steps[0])")
      }
      if lengths.ints.allSatisfy({ $0 == steps[0] }) { inputs[0] = nil }
    }
    let layer = ONNXRecurrent(
      kind, direction: direction, hiddenSize: hidden, activations: try activations(n, kind, directions: d),
      clip: try clip(n), inputForget: try flag(n, "input_forget", for: .lstm),
      linearBeforeReset: try flag(n, "linear_before_reset", for: .gru), batchFirst: layout == 1,
      hasSequenceLengths: inputs[0] != nil, hasInitialH: inputs[1] != nil, hasInitialC: inputs[2] != nil,
      weight: w, recurrence: r, bias: expected[2].0, peephole: expected[3].0)
    guard n.node.output.count <= 1 + kind.states else {
      throw NodeError("\(kind.rawValue) has \(1 + kind.states) outputs, the node names \(n.node.output.count)")
    }
    let hints = [n.hint(0), n.hint(4), n.hint(5), n.hint(6)]
    let present = zip([x] + inputs, hints).filter { $0.0 != nil }
    let packed = try n.emit(layer, present.compactMap(\.0), hints: present.map(\.1))
    // The sequence axis of the packed value; counted from its end, the states do not depend on
    // seq_length (which may differ between the probing passes).
    let axis = layout == 1 ? 1 : 0
    for i in 0..<n.node.output.count where !n.node.output[i].isEmpty {
      let pick: ONNXOp.Kind =
        i == 0
        ? .slice(starts: [0], ends: [-kind.states], axes: [axis], steps: [1])
        : .gather(axis: axis, indices: [i - 1 - kind.states], indicesShape: [])
      let suffix = ["_Y", "_Y_h", "_Y_c"][i]
      if let c = packed.constant {
        n.define(i, .constant(try n.foldMovement(ONNXOp(pick), c)))
      } else {
        n.define(i, try n.emit(ONNXOp(pick), [packed], hints: [n.name], suffix: suffix))
      }
    }
  }

  /// `activations` with `activation_alpha` and `activation_beta`: the defaults when absent, and
  /// one direction's list used for both when a bidirectional node gives only one (as ONNX
  /// Runtime does).
  private static func activations(
    _ n: NodeConversion, _ kind: ONNXRecurrent.Kind, directions: Int
  ) throws(NodeError) -> [ONNXRecurrentActivation] {
    var names = kind.defaultActivations
    if let attribute = n.attributes.attribute("activations") {
      guard attribute.type == .strings || attribute.type == .undefined else {
        throw NodeError("attribute \"activations\" should be strings")
      }
      names = attribute.strings.map { String(decoding: $0, as: UTF8.self) }
    }
    if directions == 2 && names.count == kind.activationCount { names += names }
    guard names.count == directions * kind.activationCount else {
      throw NodeError(
        "activations \(names) should name \(kind.activationCount) function(s) per direction, \(directions) direction(s)"
      )
    }
    let alphas = try n.attributes.floats("activation_alpha") ?? []
    let betas = try n.attributes.floats("activation_beta") ?? []
    switch ONNXRecurrentActivation.list(names, alphas: alphas, betas: betas) {
    case .success(let list): return list
    case .failure(let unknown):
      throw NodeError(
        "activation \"\(unknown.name)\" is not one ONNX defines for \(kind.rawValue) ("
          + ONNXRecurrentActivation.defaults.keys.sorted().joined(separator: ", ") + ")")
    }
  }

  /// `clip`: absent for none; otherwise a positive bound.
  private static func clip(_ n: NodeConversion) throws(NodeError) -> Float? {
    guard n.attributes.has("clip") else { return nil }
    let clip = try n.attributes.float("clip", 0)
    guard clip > 0, !clip.isNaN else { throw NodeError("clip \(clip) should be a positive threshold") }
    return clip
  }

  /// A 0/1 attribute only one of the operators has (input_forget for LSTM, linear_before_reset
  /// for GRU).
  private static func flag(_ n: NodeConversion, _ name: String, for kind: ONNXRecurrent.Kind) throws(NodeError) -> Bool
  {
    let value = try n.attributes.int(name, 0)
    guard value == 0 || n.node.opType == kind.rawValue else {
      throw NodeError("attribute \"\(name)\" is \(kind.rawValue)'s; \(n.node.opType) has no such choice")
    }
    return value != 0
  }
}
