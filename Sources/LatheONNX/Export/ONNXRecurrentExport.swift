import LatheTensor

// The ONNX form of `ONNXRecurrent`: the operator itself, then Y, Y_h and Y_c packed along the
// sequence axis as the layer returns them (the slices and gathers after it cut them out again).

extension ONNXRecurrent: ONNXExportable {
  /// `layout` arrives in opset 14.
  var minimumONNXOpset: Int { batchFirst ? 14 : ONNXExporter.opsetVersion }

  func writeONNX(_ export: LayerExport) { export.recurrent(self) }
}

extension LayerExport {
  fileprivate func recurrent(_ l: ONNXRecurrent) {
    var rest = inputs.dropFirst().makeIterator()
    let next = { (present: Bool) in present ? rest.next() ?? "" : "" }
    var operands = [
      inputs[0], builder.floats("\(name).weight", l.weight.value),
      builder.floats("\(name).recurrence", l.recurrence.value),
      l.bias.map { builder.floats("\(name).bias", $0.value) } ?? "",
    ]
    // sequence_lens is int32 in ONNX; the engine carries it as floats.
    let lengths = next(l.hasSequenceLengths)
    operands.append(lengths.isEmpty ? "" : emit("Cast", [lengths], [Attr.int("to", 6)], final: false))
    operands.append(next(l.hasInitialH))
    if l.kind == .lstm {
      operands.append(next(l.hasInitialC))
      operands.append(l.peephole.map { builder.floats("\(name).peephole", $0.value) } ?? "")
    }
    while operands.last == "" { operands.removeLast() }
    var attributes = [
      Attr.int("hidden_size", l.hiddenSize), Attr.string("direction", l.direction.rawValue),
      Attr.strings("activations", l.activations.map(\.name)),
    ]
    // Each function that reads a coefficient takes the next one, as the importer reads them.
    let (alphas, betas) = (l.activations.filter(\.takesAlpha), l.activations.filter(\.takesBeta))
    if !alphas.isEmpty { attributes.append(Attr.floats("activation_alpha", alphas.map(\.alpha))) }
    if !betas.isEmpty { attributes.append(Attr.floats("activation_beta", betas.map(\.beta))) }
    if let clip = l.clip { attributes.append(Attr.float("clip", clip)) }
    if l.inputForget { attributes.append(Attr.int("input_forget", 1)) }
    if l.linearBeforeReset { attributes.append(Attr.int("linear_before_reset", 1)) }
    if l.batchFirst { attributes.append(Attr.int("layout", 1)) }
    let y = emit(l.kind.rawValue, operands, attributes, final: false)
    let states = (0..<l.kind.states).map { builder.fresh("\(y)_state\($0)") }
    builder.nodes[builder.nodes.count - 1].output = [y] + states
    // Each state [directions, batch, hidden] (layout 1: [batch, directions, hidden]) gets the
    // sequence axis back as one more step.
    let axis = l.batchFirst ? 1 : 0
    let axes = builder.int64s("\(name).axes", [axis])
    let steps = states.map { emit("Unsqueeze", [$0, axes], final: false) }
    emit("Concat", [y] + steps, [Attr.int("axis", axis)])
  }
}
