import Foundation
import LatheCompress
import LatheTensor

// Arithmetic, joins, splits and quantization: the converters whose inputs are often constants
// (shape arithmetic that folds away) or that fuse into the layer before them.

extension ONNXConverters {
  static func arithmetic(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "A")
    var y = try n.required(1, "B")
    if n.opset < 7, try n.attributes.int("broadcast", 0) != 0, n.attributes.has("axis") {
      // Opset 6 broadcasting: B's axes line up with A's from `axis`, not from the right.
      let (rankA, shapeB) = (n.shape(x).count, n.shape(y))
      var axis = try n.attributes.int("axis", 0)
      if axis < 0 { axis += rankA }
      let trailing = rankA - axis - shapeB.count
      guard axis >= 0, trailing >= 0 else { throw NodeError("legacy broadcast axis \(axis) does not fit") }
      y = try n.movement(ONNXOp(.reshape(shape: shapeB + Array(repeating: 1, count: trailing), allowZero: true)), y)
    }
    guard broadcastShape(n.shape(x), n.shape(y)) != nil else {
      throw NodeError("shapes \(n.shape(x)) and \(n.shape(y)) do not broadcast")
    }
    let op = n.node.opType
    if let a = x.constant, let b = y.constant, !a.isFloatingPoint, !b.isFloatingPoint {
      n.define(0, .constant(try integerArithmetic(op, a, b)))
      return
    }
    if op == "Div", [x, y].allSatisfy({ !ONNXConstant.floatingTypes.contains(n.importer.elementType($0)) }) {
      n.define(0, try n.emit(ONNXShapeDependentOp(.integerDivide), [x, y], hints: [n.hint(0), n.hint(1)]))
      return
    }
    if op == "Add", let fused = fuseBias(n, x, y) ?? fuseBias(n, y, x) {
      n.define(0, fused)
      return
    }
    let layer: Layer =
      switch op {
      case "Add": Function(.add)
      case "Sub": ONNXOp(.sub)
      case "Mul": ONNXOp(.mul)
      default: ONNXOp(.div)
      }
    n.define(0, try n.emit(layer, [x, y], hints: [n.hint(0), n.hint(1)]))
  }

  /// MatMul then Add of a constant vector: the Linear (or weight-only layer) takes the vector as
  /// its bias, so the pair becomes one layer (as PyTorch's nn.Linear exports for inputs of rank
  /// 3 and up, and Lathe's weight-only export writes). The vector may carry leading 1s ([1, 1,
  /// out]) up to the product's rank; more would broadcast the sum to a higher rank.
  static func fuseBias(_ n: NodeConversion, _ value: ValueRef, _ addend: ValueRef) -> ValueRef? {
    guard case .runtime(let name, _) = value, let c = addend.constant, let layer = n.importer.layer(named: name),
      let outputs = unbiasedOutputs(layer), c.count == outputs, c.shape.last == outputs,
      c.shape.dropLast().allSatisfy({ $0 == 1 }), c.shape.count <= n.shape(value).count,
      let source = n.node.input.first(where: { n.importer.values[$0].map(isSame(name)) ?? false }),
      n.isPrivate(source)
    else { return nil }
    let bias = c.floats.reshaped([outputs])
    if let linear = layer as? Linear {
      n.importer.replaceLayer(of: name, with: Linear(weight: linear.weight, bias: Parameter(bias)))
    } else if let weightOnly = layer as? WeightOnlyLinear {
      n.importer.replaceLayer(
        of: name, with: WeightOnlyLinear(weights: weightOnly.weights, bias: bias, inputScale: weightOnly.inputScale))
    }
    return value
  }

  /// The output width of a bias-free Linear or weight-only layer; nil for anything else.
  private static func unbiasedOutputs(_ layer: Layer) -> Int? {
    if let linear = layer as? Linear, linear.bias == nil { return linear.outputs }
    if let weightOnly = layer as? WeightOnlyLinear, weightOnly.bias == nil { return weightOnly.weights.rows }
    return nil
  }

  private static func isSame(_ name: String) -> (ValueRef) -> Bool {
    { ref in
      if case .runtime(let other, _) = ref { return other == name }
      return false
    }
  }

  /// Shape arithmetic on integer constants, exactly (fp32 would round large int64 values).
  static func integerArithmetic(_ op: String, _ a: ONNXConstant, _ b: ONNXConstant) throws(NodeError) -> ONNXConstant {
    guard let shape = broadcastShape(a.shape, b.shape) else { throw NodeError("shapes do not broadcast") }
    let (x, y) = (a.ints, b.ints)
    let ia = IndexMap.expand(input: a.shape, output: shape)
    let ib = IndexMap.expand(input: b.shape, output: shape)
    let marker = ONNXConstant.batchMarker
    var values: [Int] = []
    for k in 0..<ia.count {
      let (p, q) = (x[ia[k]], y[ib[k]])
      if p == marker || q == marker {
        // Arithmetic on the batch size: only x*1, x/1, x+0 keep it meaningful.
        guard (op == "Mul" && (p == 1 || q == 1)) || (op == "Div" && q == 1) || (op == "Add" && (p == 0 || q == 0))
        else { throw NodeError("shape arithmetic on the batch size is not supported") }
        values.append(marker)
        continue
      }
      switch op {
      case "Add": values.append(p &+ q)
      case "Sub": values.append(p &- q)
      case "Mul": values.append(p &* q)
      default:
        guard q != 0 else { throw NodeError("integer division by zero") }
        values.append(p / q)
      }
    }
    return ONNXConstant(shape: shape, ints: values, elementType: a.elementType)
  }

  static func concat(_ n: NodeConversion) throws(NodeError) {
    var parts: [ValueRef] = []
    for i in 0..<n.node.input.count { if let ref = try n.input(i) { parts.append(ref) } }
    guard let first = parts.first else { throw NodeError("no inputs") }
    let rank = n.shape(first).count
    var axis = try n.attributes.int("axis", 0)
    if axis < 0 { axis += rank }
    guard axis >= 0, axis < max(rank, 1) else { throw NodeError("axis out of range for rank \(rank)") }
    for part in parts {
      let s = n.shape(part)
      guard s.count == rank, (0..<rank).allSatisfy({ $0 == axis || s[$0] == n.shape(first)[$0] }) else {
        throw NodeError("input shapes \(parts.map { n.shape($0) }) do not agree off axis \(axis)")
      }
    }
    let constants = parts.compactMap(\.constant)
    if constants.count == parts.count, constants.contains(where: { !$0.isFloatingPoint }) {
      // Integer constants (shapes being assembled): concatenate the positions, pick the ints.
      let positions = constants.reduce(into: (0, [Variable]())) { acc, c in
        acc.1.append(Variable(Tensor(shape: c.shape, scalars: (0..<c.count).map { Float(acc.0 + $0) })))
        acc.0 += c.count
      }.1
      var context = ForwardContext.inference
      let moved = Function(.concat(axis: axis)).forward(positions, context: &context).value
      let all = constants.flatMap(\.ints)
      n.define(0, .constant(ONNXConstant(shape: moved.shape, ints: moved.scalars.map { all[Int($0)] })))
      return
    }
    if parts.count == 1 {
      n.define(0, first)
      return
    }
    n.define(0, try n.emit(Function(.concat(axis: axis)), parts, hints: (0..<parts.count).map { n.hint($0) }))
  }

  static func split(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "input")
    let shape = n.shape(x)
    var axis = try n.attributes.int("axis", 0)
    if axis < 0 { axis += shape.count }
    guard axis >= 0, axis < shape.count else { throw NodeError("axis out of range") }
    let count = n.node.output.count
    var sizes = (try n.ints(attribute: "split", input: 1, "split")) ?? []
    if sizes.isEmpty {
      let chunk = (shape[axis] + count - 1) / count
      sizes = (0..<count).map { min(chunk, max(0, shape[axis] - $0 * chunk)) }
    }
    guard sizes.count == count, sizes.reduce(0, +) == shape[axis], sizes.allSatisfy({ $0 >= 0 }) else {
      throw NodeError("split sizes \(sizes) do not divide axis \(axis) of size \(shape[axis]) into \(count) outputs")
    }
    var start = 0
    for (i, size) in sizes.enumerated() {
      let kind = ONNXOp.Kind.slice(starts: [start], ends: [start + size], axes: [axis], steps: [1])
      if let c = x.constant {
        n.define(i, .constant(try n.foldMovement(ONNXOp(kind), c)))
      } else {
        n.define(i, try n.emit(ONNXOp(kind), [x], hints: [n.hint(0)], suffix: "_\(i)"))
      }
      start += size
    }
  }

  static func slice(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "data")
    let rank = n.shape(x).count
    let (runtimeStarts, runtimeEnds) = (try n.runtime(1), try n.runtime(2))
    if n.opset >= 10, runtimeStarts != nil || runtimeEnds != nil {
      let axes = try n.constant(3, "axes")?.ints ?? []
      let steps = try n.constant(4, "steps")?.ints ?? []
      let layer = ONNXShapeDependentOp(.slice(axes: axes.map { ($0 + rank) % max(rank, 1) }, steps: steps))
      let bounds = [try n.required(1, "starts"), try n.required(2, "ends")]
      n.define(0, try n.emit(layer, [x] + bounds, hints: [n.hint(0), n.hint(1), n.hint(2)]))
      return
    }
    let starts = try n.ints(attribute: "starts", input: 1, "starts") ?? []
    let ends = try n.ints(attribute: "ends", input: 2, "ends") ?? []
    let axes = try n.ints(attribute: "axes", input: 3, "axes") ?? Array(0..<starts.count)
    let steps = try n.constant(4, "steps")?.ints ?? Array(repeating: 1, count: starts.count)
    guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count,
      axes.allSatisfy({ $0 >= -rank && $0 < rank }), steps.allSatisfy({ $0 != 0 })
    else { throw NodeError("starts, ends, axes and steps do not agree (rank \(rank))") }
    guard !starts.contains(ONNXConstant.batchMarker), !ends.contains(ONNXConstant.batchMarker) else {
      throw NodeError("slice bounds that depend on the batch size are not supported")
    }
    // Clamp int64 sentinels (INT64_MAX) into a range model files store faithfully.
    let clamp = { (v: Int) in min(max(v, -(1 << 31)), 1 << 31) }
    let kind = ONNXOp.Kind.slice(
      starts: starts.map(clamp), ends: ends.map(clamp), axes: axes.map { ($0 + rank) % rank }, steps: steps)
    n.define(0, try n.movement(ONNXOp(kind), x))
  }

  static func pad(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let x = try n.required(0, "data")
    let rank = n.shape(x).count
    var pads = try n.ints(attribute: "pads", input: 1, "pads") ?? []
    if let old = try a.ints("paddings") { pads = old }
    let value = try n.float(input: 2, attribute: "value", 0)
    let mode = try a.string("mode", "constant")
    guard ["constant", "edge", "reflect", "wrap"].contains(mode) else {
      throw NodeError("pad mode \"\(mode)\" is not supported")
    }
    if let axes = try n.constant(3, "axes")?.ints {
      guard pads.count == 2 * axes.count else {
        throw NodeError("pads has \(pads.count) values; \(axes.count) axes need \(2 * axes.count)")
      }
      var full = [Int](repeating: 0, count: 2 * rank)
      for (k, axis) in axes.enumerated() {
        guard let d = ONNXShapes.axis(axis, rank: rank) else { throw NodeError("axis \(axis) is out of range") }
        full[d] = pads[k]
        full[d + rank] = pads[k + axes.count]
      }
      pads = full
    }
    guard pads.count == 2 * rank else {
      throw NodeError("pads has \(pads.count) values; rank \(rank) needs \(2 * rank)")
    }
    // The layer's shape rule checks the padded sizes (overflow and cropping included).
    n.define(0, try n.movement(ONNXOp(.pad(pads: pads, mode: mode, value: value)), x))
  }

  static func quantization(_ n: NodeConversion) throws(NodeError) {
    let blockSize = try n.attributes.int("block_size", 0)
    if blockSize != 0, n.node.opType == "DequantizeLinear", try n.input(0)?.constant != nil {
      try blockedDequantization(n, blockSize: blockSize)
      return
    }
    let x = try n.required(0, "x")
    let quantize = n.node.opType == "QuantizeLinear"
    if !quantize, blockSize == 0, try n.runtime(1) != nil {
      try runtimeDequantization(n, x)
      return
    }
    let scale = try n.requiredConstant(1, "scale")
    let zero = try n.constant(2, "zero_point")
    // The integer type: the zero point's, else the quantized input's (dequantize), else uint8.
    let type = zero?.elementType ?? (quantize ? .uint8 : (x.constant?.elementType ?? .uint8))
    let range = try integerRange(type)
    let rank = n.shape(x).count
    let axis = try n.attributes.int("axis", 1)
    if blockSize != 0 {
      try checkBlocks(n, scale: scale, zero: zero, input: n.shape(x), axis: axis, blockSize: blockSize)
    } else {
      guard scale.shape.count <= 1, zero == nil || zero!.count == scale.count else {
        throw NodeError("scale and zero_point must be scalars or matching 1-D tensors")
      }
    }
    if scale.count > 1 && blockSize == 0 {
      guard axis >= -rank, axis < rank, n.shape(x)[(axis + rank) % rank] == scale.count else {
        throw NodeError("\(scale.count) scales do not match axis \(axis) of \(n.shape(x))")
      }
    }
    let zeroPoint = zero?.floats ?? Tensor(repeating: 0, shape: scale.shape)
    // Per-channel and blocked axes were checked above; a per-tensor scale ignores the axis, so
    // one out of range (a damaged file) is stored as 0.
    let layer = ONNXQuantization(
      quantize ? .quantize : .dequantize, scale: scale.floats, zeroPoint: zeroPoint.reshaped(scale.shape),
      axis: ONNXShapes.axis(axis, rank: max(rank, 1)) ?? 0, range: range, blockSize: blockSize)
    var y = try n.emit(layer, [x], hints: [n.hint(0)])
    if quantize, case .constant(let c) = y { y = .constant(c.cast(to: type)) }
    n.define(0, y)
    // 8-bit weight levels: the Gemm, MatMul or Conv that reads them may run as an int8 layer.
    if !quantize, x.constant != nil, blockSize == 0, type == .int8 || type == .uint8,
      let output = n.node.output.first, !output.isEmpty
    {
      n.importer.int8Weights[output] = Int8WeightOrigin(
        initializer: n.node.input[0], scales: scale.floats.contiguous().scalars)
    }
  }

  /// DequantizeLinear by a scale (and zero point) computed at run time, as DynamicQuantizeLinear
  /// gives them: (x − zero point) · scale. When all three come from one DynamicQuantizeLinear,
  /// the result is noted so a Gemm, MatMul or Conv reading it can run as a dynamic int8 layer.
  static func runtimeDequantization(_ n: NodeConversion, _ x: ValueRef) throws(NodeError) {
    let scale = try n.required(1, "scale")
    guard n.shape(scale).reduce(1, *) == 1 else {
      throw NodeError("a scale computed at run time must be one value, not \(n.shape(scale))")
    }
    var shifted = x
    if let zero = try n.input(2) {
      shifted = try n.emit(ONNXOp(.sub), [x, zero], hints: [n.hint(0), n.hint(2)], suffix: "_shift")
    }
    let y = try n.emit(ONNXOp(.mul), [shifted, scale], hints: [n.hint(0), n.hint(1)])
    n.define(0, y)
    let importer = n.importer
    let sources = n.node.input.prefix(3).map { name -> (layer: ONNXDynamicQuantization, input: String)? in
      guard case .runtime(let value, _)? = importer.values[name], let index = importer.nodeIndex[value],
        let layer = importer.nodes[index].layer as? ONNXDynamicQuantization,
        let input = importer.nodes[index].inputs.first
      else { return nil }
      return (layer, input)
    }
    guard sources.count == 3, let source = sources[0]?.input,
      sources.map({ $0?.layer.output }) == [.quantized, .scale, .zeroPoint],
      sources.allSatisfy({ $0?.input == source }), case .runtime(let value, _) = y
    else { return }
    importer.dynamicallyQuantized[value] = source
    if case .runtime(let shift, _) = shifted, shift != value { importer.dynamicallyQuantized[shift] = source }
  }

  /// The values a quantized integer type holds, which results saturate to.
  static func integerRange(_ type: Onnx_TensorProto.DataType) throws(NodeError) -> ClosedRange<Int> {
    switch type {
    case .int8: return -128...127
    case .uint8: return 0...255
    case .int4: return -8...7
    case .uint4: return 0...15
    case .int32: return Int(Int32.min)...Int(Int32.max)
    case .int16: return -32768...32767
    case .uint16: return 0...65535
    default: throw NodeError("quantized type \(type.name) is not supported")
    }
  }
}
