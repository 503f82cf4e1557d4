import Foundation
import LatheTensor

/// `Loop` and `Scan`. The body imports as its own node list (`GraphImporter.loopBody`), its
/// inputs defined first as run-time values with the shapes the node's inputs have, so its
/// nodes get shapes in every probing pass as the enclosing graph's do. One `ONNXLoop` layer per
/// output shares the body, which runs the loop once for all of them.
extension ONNXConverters {
  /// Every operator `loop` converts; `supported` lists them too.
  static let loopOps: Set<String> = ["Loop", "Scan"]

  static func loop(_ n: NodeConversion) throws(NodeError) {
    if n.node.opType == "Scan" { try scanLoop(n) } else { try forLoop(n) }
  }

  /// `Loop`: inputs M (trip count), cond and the loop-carried values; the body takes the
  /// iteration number, the condition and the carried values, and returns the condition, the
  /// carried values and one slice of each scan output. A run-time trip count or condition
  /// stays a run-time one: the body runs as many times as the fed values say.
  private static func forLoop(_ n: NodeConversion) throws(NodeError) {
    guard let graph = n.attributes.attribute("body")?.g else { throw NodeError("needs a body graph") }
    let tripCount = try n.input(0)
    let condition = try n.input(1)
    guard tripCount != nil || condition != nil else {
      throw NodeError("has neither a trip count (M) nor a condition, so it would never end")
    }
    var initial: [ValueRef] = []
    for i in 2..<max(2, n.node.input.count) { initial.append(try n.required(i, "loop-carried value \(i - 2)")) }
    let carried = initial.count
    let scanOutputs = n.node.output.count - carried
    guard scanOutputs >= 0 else {
      throw NodeError(
        "has \(n.node.output.count) outputs for \(carried) loop-carried values; it needs at least as many")
    }
    guard graph.input.count == 2 + carried else {
      throw NodeError(
        "the body has \(graph.input.count) inputs; the node needs \(2 + carried) "
          + "(the iteration number, the condition and \(carried) loop-carried values)")
    }
    guard graph.output.count == 1 + n.node.output.count else {
      throw NodeError(
        "the body has \(graph.output.count) outputs; the node needs \(1 + n.node.output.count) "
          + "(the condition, \(carried) loop-carried values and \(scanOutputs) scan outputs)")
    }
    let importer = n.importer
    let scalar = Array(repeating: [Int](), count: importer.passes)
    let body = try importer.loopBody(
      graph, name: n.name + "_body",
      inputs: [(scalar, .int64), (scalar, .bool)] + initial.map { (n.shapes($0), importer.elementType($0)) })
    // The scan outputs' length at load: the trip count where it is known in a pass (a
    // constant, or probed from the sizes), else 1. Only shape rules downstream see it; the
    // layers stack as many slices as the loop ran.
    let trips = (0..<importer.passes).map { pass -> Int in
      guard let m = tripCount.flatMap({ importer.probe($0, pass: pass) })?.scalars.first, m >= 0, m <= 4096 else {
        return 1
      }
      return Int(m)
    }
    var own: [(ref: ValueRef, hint: String)] = []
    if let tripCount { own.append((tripCount, n.hint(0))) }
    if let condition { own.append((condition, n.hint(1))) }
    for (k, ref) in initial.enumerated() { own.append((ref, n.hint(2 + k))) }
    let returned = Array(body.outputs.dropFirst())
    let kind = ONNXLoopBody.Kind.loop(hasTripCount: tripCount != nil, hasCondition: condition != nil)
    let shared = ONNXLoopBody(
      kind: kind, nodes: body.nodes, bodyInputs: body.inputs, bodyOutputs: body.outputs.map(\.name),
      captured: body.captured, carried: carried, sliceShapes: returned[carried...].map { $0.shapes[0] })
    try addLayers(n, shared, own: own, returned: returned) { k, pass in
      k < carried ? returned[k].shapes[pass] : [trips[pass]] + returned[k].shapes[pass]
    }
  }

  /// `Scan` (opset 9 on; 8 in `batchedScan`): inputs the states, then `num_scan_inputs` scan inputs; the body takes
  /// the states and one slice of each scan input, and returns the states and one slice of each
  /// scan output. The scan inputs' length along their axes is the iteration count.
  private static func scanLoop(_ n: NodeConversion) throws(NodeError) {
    if n.opset < 9 { return try batchedScan(n) }
    guard let graph = n.attributes.attribute("body")?.g else { throw NodeError("needs a body graph") }
    let a = n.attributes
    let count = try a.int("num_scan_inputs", 0)
    guard count >= 1, count <= n.node.input.count else {
      throw NodeError("num_scan_inputs is \(count); the node has \(n.node.input.count) inputs")
    }
    let states = n.node.input.count - count
    let scanOutputs = try checkScanArity(n, graph, states: states, scanInputs: count)
    let list = { (name: String, count: Int) throws(NodeError) -> [Int] in
      guard let v = try a.ints(name) else { return Array(repeating: 0, count: count) }
      guard v.count == count else { throw NodeError("\(name) has \(v.count) entries; the node needs \(count)") }
      return v
    }
    let inputDirections = try list("scan_input_directions", count)
    let outputDirections = try list("scan_output_directions", scanOutputs)
    guard (inputDirections + outputDirections).allSatisfy({ $0 == 0 || $0 == 1 }) else {
      throw NodeError("directions are 0 (forward) or 1 (reverse); the node has \(inputDirections + outputDirections)")
    }
    var inputs: [(ref: ValueRef, hint: String)] = []
    for i in 0..<n.node.input.count {
      inputs.append((try n.required(i, i < states ? "state" : "scan input"), n.hint(i)))
    }
    // Each scan input's axis, and its length there in every pass, which must agree.
    var inputAxes: [Int] = []
    var slices: [(shapes: [[Int]], type: Onnx_TensorProto.DataType)] = []
    var lengths: [Int]?
    for (j, axis) in try list("scan_input_axes", count).enumerated() {
      let x = inputs[states + j].ref
      let shapes = n.shapes(x)
      guard let resolved = ONNXShapes.axis(axis, rank: shapes[0].count) else {
        throw NodeError("scan input \(j) has rank \(shapes[0].count); its axis \(axis) is out of range")
      }
      let these = shapes.map { $0[resolved] }
      if let lengths, lengths != these {
        throw NodeError("the scan inputs' lengths differ: \(lengths[0]) and \(these[0])")
      }
      lengths = these
      inputAxes.append(resolved)
      let sliced = shapes.map { shape in shape.enumerated().filter { $0.offset != resolved }.map(\.element) }
      slices.append((sliced, n.importer.elementType(x)))
    }
    let importer = n.importer
    let body = try importer.loopBody(
      graph, name: n.name + "_body",
      inputs: inputs[..<states].map { (n.shapes($0.ref), importer.elementType($0.ref)) } + slices)
    var outputAxes: [Int] = []
    for (k, axis) in try list("scan_output_axes", scanOutputs).enumerated() {
      let rank = body.outputs[states + k].shapes[0].count + 1
      guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
        throw NodeError("scan output \(k) has rank \(rank); its axis \(axis) is out of range")
      }
      outputAxes.append(resolved)
    }
    let kind = ONNXLoopBody.Kind.scan(
      inputAxes: inputAxes, inputReversed: inputDirections.map { $0 == 1 }, outputAxes: outputAxes,
      outputReversed: outputDirections.map { $0 == 1 })
    let shared = ONNXLoopBody(
      kind: kind, nodes: body.nodes, bodyInputs: body.inputs, bodyOutputs: body.outputs.map(\.name),
      captured: body.captured, carried: states, sliceShapes: body.outputs[states...].map { $0.shapes[0] })
    try addLayers(n, shared, own: inputs, returned: body.outputs) { k, pass in
      var shape = body.outputs[k].shapes[pass]
      if k >= states { shape.insert(lengths![pass], at: outputAxes[k - states]) }
      return shape
    }
  }

  /// The number of scan outputs of a Scan with `states` states and `scanInputs` scan inputs,
  /// after checking that the node's outputs and the body's inputs and outputs agree with them.
  private static func checkScanArity(
    _ n: NodeConversion, _ graph: Onnx_GraphProto, states: Int, scanInputs count: Int
  ) throws(NodeError) -> Int {
    let scanOutputs = n.node.output.count - states
    guard scanOutputs >= 0 else {
      throw NodeError("has \(n.node.output.count) outputs for \(states) states; it needs at least as many")
    }
    guard graph.input.count == states + count else {
      throw NodeError(
        "the body has \(graph.input.count) inputs; the node needs \(states + count) "
          + "(\(states) states and one slice of each of \(count) scan inputs)")
    }
    guard graph.output.count == n.node.output.count else {
      throw NodeError(
        "the body has \(graph.output.count) outputs; the node needs \(n.node.output.count) "
          + "(\(states) states and \(scanOutputs) scan outputs)")
    }
    return scanOutputs
  }

  /// `Scan` in opset 8: input 0 the optional sequence lengths, then the states and the scan
  /// inputs, every one with a batch axis first; the scan inputs' sequence axis is 1, and
  /// `directions` reverses it per scan input. The body sees one batch entry at a time.
  private static func batchedScan(_ n: NodeConversion) throws(NodeError) {
    guard let graph = n.attributes.attribute("body")?.g else { throw NodeError("needs a body graph") }
    let count = try n.attributes.int("num_scan_inputs", 0)
    let states = n.node.input.count - 1 - count
    guard count >= 1, states >= 0 else {
      throw NodeError("num_scan_inputs is \(count); the node has \(n.node.input.count - 1) inputs after sequence_lens")
    }
    let scanOutputs = try checkScanArity(n, graph, states: states, scanInputs: count)
    let directions = try n.attributes.ints("directions") ?? Array(repeating: 0, count: count)
    guard directions.count == count, directions.allSatisfy({ $0 == 0 || $0 == 1 }) else {
      throw NodeError("directions \(directions) should be \(count) entries of 0 (forward) or 1 (reverse)")
    }
    var own: [(ref: ValueRef, hint: String)] = []
    let lengths = try n.input(0)
    if let lengths { own.append((lengths, n.hint(0))) }
    var bodyInputs: [(shapes: [[Int]], type: Onnx_TensorProto.DataType)] = []
    var batch: [Int]?
    var steps: [Int]?
    for i in 1..<n.node.input.count {
      let x = try n.required(i, i <= states ? "state" : "scan input")
      let shapes = n.shapes(x)
      let scanned = i > states
      guard shapes.allSatisfy({ $0.count >= (scanned ? 2 : 1) }) else {
        throw NodeError(
          "input \(i) has shape \(shapes[0]); it needs a batch axis\(scanned ? " and a sequence axis" : "")")
      }
      let these = shapes.map { $0[0] }
      if let batch, batch != these { throw NodeError("the inputs' batch sizes differ: \(batch[0]) and \(these[0])") }
      batch = these
      if scanned {
        let length = shapes.map { $0[1] }
        if let steps, steps != length {
          throw NodeError("the scan inputs' lengths differ: \(steps[0]) and \(length[0])")
        }
        steps = length
      }
      own.append((x, n.hint(i)))
      bodyInputs.append((shapes.map { Array($0.dropFirst(scanned ? 2 : 1)) }, n.importer.elementType(x)))
    }
    let body = try n.importer.loopBody(graph, name: n.name + "_body", inputs: bodyInputs)
    let shared = ONNXLoopBody(
      kind: .batchedScan(hasLengths: lengths != nil, inputReversed: directions.map { $0 == 1 }), nodes: body.nodes,
      bodyInputs: body.inputs, bodyOutputs: body.outputs.map(\.name), captured: body.captured, carried: states,
      sliceShapes: body.outputs[states...].map { $0.shapes[0] })
    try addLayers(n, shared, own: own, returned: body.outputs) { k, pass in
      [batch![pass]] + (k < states ? [] : [steps![pass]]) + body.outputs[k].shapes[pass]
    }
  }

  /// One `ONNXLoop` per output the node names, reading the node's own inputs then the
  /// captured values; `returned` are the body outputs behind the node's outputs, whose element
  /// types the layers take, and `shape(k, pass)` output k's shape at load.
  private static func addLayers(
    _ n: NodeConversion, _ shared: ONNXLoopBody, own: [(ref: ValueRef, hint: String)],
    returned: [(name: String, shapes: [[Int]])], shape: (Int, Int) -> [Int]
  ) throws(NodeError) {
    let importer = n.importer
    let names = own.map { importer.valueName($0.ref, hint: $0.hint) } + shared.captured
    for k in n.node.output.indices where !n.node.output[k].isEmpty {
      let name = importer.unique(importer.sanitize(n.name + (k == 0 ? "" : "_\(k)")))
      if shared.group.isEmpty { (shared.group, shared.owner) = (name, k) }
      importer.add(Node(name, ONNXLoop(shared, output: k), inputs: names))
      if let type = importer.types[returned[k].name] { importer.types[name] = type }
      n.define(k, .runtime(name, (0..<importer.passes).map { shape(k, $0) }))
    }
  }
}

extension GraphImporter {
  /// A `Loop`'s or `Scan`'s body imported as its own list of nodes (`branch`), with its inputs
  /// defined first as run-time values of the given shapes (one per pass) and element types.
  /// The body's names are its own: the enclosing graph's values are restored afterwards, and
  /// a body input that shares a name with an enclosing value hides it inside the body only.
  func loopBody(
    _ graph: Onnx_GraphProto, name: String, inputs: [(shapes: [[Int]], type: Onnx_TensorProto.DataType)]
  ) throws(NodeError) -> (
    nodes: [Node], inputs: [String], captured: [String], outputs: [(name: String, shapes: [[Int]])]
  ) {
    let saved = values
    defer { values = saved }
    var names: [String] = []
    for (input, given) in zip(graph.input, inputs) {
      let value = unique(sanitize(name + "_" + input.name))
      values[input.name] = .runtime(value, given.shapes)
      if !ONNXConstant.floatingTypes.contains(given.type) { types[value] = given.type }
      names.append(value)
    }
    // A value the body returns is read again on the next iteration or by the node: no
    // converter may fuse it into the node that reads it inside the body.
    for output in graph.output { consumers[output.name, default: 0] += 1 }
    let body = try branch(graph, name: name)
    let own = Set(names)
    return (body.nodes, names, body.captured.filter { !own.contains($0) }, body.outputs)
  }
}
