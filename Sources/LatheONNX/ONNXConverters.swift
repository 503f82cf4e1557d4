import Foundation
import LatheTensor

/// ONNX operators onto Lathe layers. Weights become the engine's own layers (Gemm and MatMul
/// with constant weights -> Linear, Conv -> Conv2d, BatchNormalization -> BatchNorm, pools ->
/// Pool2d) so pruning and quantization find them; the rest become `ONNXOp`s and friends.
enum ONNXConverters {
  static let supported: Set<String> = [
    "If",  // ONNXConverters+Control.swift
    "Loop", "Scan",  // ONNXConverters+Loop.swift
    // ONNXConverters+Math.swift (`mathOps`):
    "HardSwish", "Mish", "Celu", "ThresholdedRelu", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan",
    "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Pow", "Mod", "Max", "Min", "Mean", "ReduceMax",
    "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
    "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sum", "Relu", "LeakyRelu", "PRelu", "Elu",
    "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign", "HardSigmoid", "Clip", "MaxPool", "AveragePool",
    "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "LRN", "Dropout", "Identity", "Flatten", "Reshape",
    "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather", "Shape", "Constant", "ConstantOfShape",
    "Pad", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "QuantizeLinear", "DequantizeLinear", "Cast", "Expand",
    "Gelu", "Erf", "Neg", "Exp", "Log", "Sqrt", "Abs",
    "LayerNormalization", "RMSNormalization", "InstanceNormalization", "GroupNormalization", "DepthToSpace",
    "SpaceToDepth", "Tile",
    // ONNXConverters+Logic.swift (`logicOps`):
    "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Where", "IsNaN", "IsInf",
    "ArgMax", "ArgMin", "CumSum", "Trilu", "Size", "CastLike",
    "Attention",
    "Resize", "Upsample",
    "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss",
    "Range", "CumProd", "Hardmax", "LpPool", "BitShift", "GridSample",
    "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "LpNormalization", "Einsum", "CenterCropPad",
    "RotaryEmbedding",
    "GatherElements", "GatherND", "ScatterElements", "Scatter", "ScatterND", "OneHot", "TopK",
    "RNN", "GRU", "LSTM",
    "QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear",
    "NonZero", "Compress", "Unique", "NonMaxSuppression", "EyeLike",
    "HannWindow", "HammingWindow", "BlackmanWindow", "ReverseSequence", "Swish", "Col2Im", "Shrink",
  ]

  static func convert(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    switch n.node.opType {
    case _ where n.node.domain == mlDomain: try ml(n)
    case "Identity", "Cast":
      let x = try n.required(0, "input")
      if n.node.opType == "Cast", let c = x.constant,
        let type = Onnx_TensorProto.DataType(rawValue: try a.int("to", 1))
      {
        n.define(0, .constant(c.cast(to: type)))
      } else if n.node.opType == "Cast", x.constant == nil,
        ONNXConstant.floatingTypes.contains(n.importer.elementType(x)),
        let type = Onnx_TensorProto.DataType(rawValue: try a.int("to", 1)), !ONNXConstant.floatingTypes.contains(type)
      {
        // A float value cast to an integer type drops its fraction (a scale computed from a
        // symbolic size, for one).
        n.define(0, try n.emit(ONNXShapeDependentOp(.truncate), inputs: [0]))
      } else if n.node.opType == "Cast", x.constant == nil,
        !ONNXConstant.floatingTypes.contains(n.importer.elementType(x)),
        let type = Onnx_TensorProto.DataType(rawValue: try a.int("to", 1)), ONNXConstant.floatingTypes.contains(type)
      {
        // An integer value cast to a float one keeps its values but must be typed float as it
        // goes on, or a Div it feeds truncates (Range's expanded form: ceil((limit - start) / delta)).
        n.define(0, try n.emit(ONNXOp(.identity), inputs: [0]))
      } else {
        n.define(0, x)
      }
    case "Constant": n.define(0, .constant(try constantAttribute(n)))
    case "Shape": try shape(n)
    case "ConstantOfShape":
      let value = try a.tensor("value").map { (t) throws(NodeError) in try n.importer.decoder.decode(t) }
      let shapeInput = try n.required(0, "shape")
      guard let shapeConstant = shapeInput.constant else {
        let fill = value?.floats.scalars.first ?? 0
        n.define(0, try n.emit(ONNXShapeDependentOp(.constantOfShape(value: fill)), [shapeInput], hints: [n.hint(0)]))
        return
      }
      let dims = shapeConstant.ints
      guard !dims.contains(ONNXConstant.batchMarker) else {
        throw NodeError("its shape depends on the batch size; Lathe folds ConstantOfShape at load time")
      }
      // The shape comes from the file: check its size before allocating the values.
      guard dims.allSatisfy({ $0 >= 0 }), let count = ONNXShapes.product(dims) else {
        throw NodeError("shape \(dims) is negative or holds more than \(ShapeRules.maximumElements) values")
      }
      let fill = value?.floats.scalars.first ?? 0
      if let value, !value.isFloatingPoint {
        n.define(
          0,
          .constant(
            ONNXConstant(
              shape: dims, ints: Array(repeating: value.ints.first ?? 0, count: count),
              elementType: value.elementType)))
      } else {
        n.define(0, .constant(ONNXConstant(Tensor(repeating: fill, shape: dims))))
      }
    case "Gemm": try gemm(n)
    case "MatMul": try matmul(n)
    case "Conv": try conv(n)
    case "ConvTranspose": try convTranspose(n)
    case "BatchNormalization": try batchNorm(n)
    case "MaxPool", "AveragePool": try pool(n)
    case "Add", "Sub", "Mul", "Div": try arithmetic(n)
    case "Sum":
      let count = n.node.input.count
      if count == 1 {
        n.define(0, try n.required(0, "input"))
      } else {
        n.define(0, try n.emit(Function(.add), inputs: Array(0..<count)))
      }
    case "Relu": n.define(0, try n.emit(Function(.relu), inputs: [0]))
    case _ where isMath(n): try math(n)
    case _ where logicOps.contains(n.node.opType): try logic(n)
    case _ where scanOps.contains(n.node.opType): try scan(n)
    case _ where extraOps.contains(n.node.opType): try extra(n)
    case _ where indexOps.contains(n.node.opType): try indexing(n)
    case _ where recurrentOps.contains(n.node.opType): try recurrent(n)
    case _ where quantizedOps.contains(n.node.opType): try quantized(n)
    case _ where selectionOps.contains(n.node.opType): try selection(n)
    case _ where signalOps.contains(n.node.opType): try signal(n)
    case "Gelu":
      guard try a.string("approximate", "none") == "none" else {
        throw NodeError("only approximate=\"none\" is supported")
      }
      n.define(0, try n.emit(Function(.gelu), inputs: [0]))
    case "Erf", "Neg", "Exp", "Log", "Sqrt", "Abs":
      n.define(0, try n.emit(ONNXOp(.unary(n.node.opType)), inputs: [0]))
    case "Sigmoid": n.define(0, try n.emit(Function(.sigmoid), inputs: [0]))
    case "Tanh": n.define(0, try n.emit(Function(.tanh), inputs: [0]))
    case "LeakyRelu": n.define(0, try n.emit(Function(.leakyRelu(slope: try a.float("alpha", 0.01))), inputs: [0]))
    case "Elu": n.define(0, try n.emit(ONNXOp(.elu(alpha: try a.float("alpha", 1))), inputs: [0]))
    case "Selu":
      let kind = ONNXOp.Kind.selu(
        alpha: try a.float("alpha", 1.673_263_2), gamma: try a.float("gamma", 1.050_701))
      n.define(0, try n.emit(ONNXOp(kind), inputs: [0]))
    case "Softplus": n.define(0, try n.emit(ONNXOp(.softplus), inputs: [0]))
    case "Softsign": n.define(0, try n.emit(ONNXOp(.softsign), inputs: [0]))
    case "HardSigmoid":
      let kind = ONNXOp.Kind.hardSigmoid(alpha: try a.float("alpha", 0.2), beta: try a.float("beta", 0.5))
      n.define(0, try n.emit(ONNXOp(kind), inputs: [0]))
    case "Clip":
      let low = try n.float(input: 1, attribute: "min", -.infinity)
      let high = try n.float(input: 2, attribute: "max", .infinity)
      n.define(0, try n.emit(ONNXOp(.clip(min: low, max: high)), [try n.required(0, "input")], hints: [n.hint(0)]))
    case "PRelu":
      let x = try n.required(0, "input")
      let slope = try n.requiredConstant(1, "slope").floats
      var shaped = slope
      let rank = n.shape(x).count
      // A per-channel slope [C] means axis 1, as exporters intend (numpy rules would pick the last).
      let xShape = n.shape(x)
      if slope.shape.count == 1, slope.count > 1, rank > 2, xShape.last != slope.count, xShape[1] == slope.count {
        shaped = slope.reshaped([slope.count] + Array(repeating: 1, count: rank - 2))
      }
      guard broadcastShape(shaped.shape, xShape) == xShape else {
        throw NodeError("slope \(slope.shape) does not broadcast to the input \(xShape)")
      }
      n.define(0, try n.emit(ONNXPRelu(slope: shaped), [x], hints: [n.hint(0)]))
    case "GlobalAveragePool":
      let x = try n.required(0, "input")
      let rank = n.shape(x).count
      let layer: Layer =
        rank == 4 ? Function(.globalAvgPool) : ONNXOp(.reduceMean(axes: Array(2..<max(rank, 2)), keepDims: true))
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    case "GlobalMaxPool": n.define(0, try n.emit(ONNXOp(.globalMaxPool), inputs: [0]))
    case "LRN":
      let size = try a.int("size", 0)
      guard size > 0 else { throw NodeError("attribute \"size\" should be a positive integer") }
      let kind = ONNXOp.Kind.lrn(
        size: size, alpha: try a.float("alpha", 1e-4), beta: try a.float("beta", 0.75), bias: try a.float("bias", 1))
      n.define(0, try n.emit(ONNXOp(kind), inputs: [0]))
    case "Dropout": try dropout(n)
    case "Flatten":
      let x = try n.required(0, "input")
      let rank = n.shape(x).count
      var axis = try a.int("axis", 1)
      if axis < 0 { axis += rank }
      guard axis >= 0, axis <= rank else { throw NodeError("axis \(axis) is out of range for rank \(rank)") }
      let layer: Layer = axis == 1 && rank >= 2 ? Function(.flatten(startAxis: 1)) : ONNXOp(.flatten(axis: axis))
      n.define(0, try n.movement(layer, x))
    case "Reshape":
      let x = try n.required(0, "data")
      if let shape = try n.runtime(1) {
        let layer = ONNXShapeDependentOp(.reshape(allowZero: try a.int("allowzero", 0) != 0))
        n.define(0, try n.emit(layer, [x, shape], hints: [n.hint(0), n.hint(1)]))
        return
      }
      let target = try n.ints(attribute: "shape", input: 1, "shape") ?? []
      try checkReshape(target, of: n.shape(x), allowZero: try a.int("allowzero", 0) != 0)
      n.define(0, try n.movement(ONNXOp(.reshape(shape: target, allowZero: try a.int("allowzero", 0) != 0)), x))
    case "Transpose":
      let x = try n.required(0, "data")
      let rank = n.shape(x).count
      let perm = try a.ints("perm") ?? Array((0..<rank).reversed())
      guard perm.sorted() == Array(0..<rank) else {
        throw NodeError("perm \(perm) is not a permutation of 0..<\(rank)")
      }
      n.define(0, try n.movement(ONNXOp(.transpose(permutation: perm)), x))
    case "Squeeze", "Unsqueeze":
      let x = try n.required(0, "data")
      let axes = try n.ints(attribute: "axes", input: 1, "axes") ?? []
      let inRank = n.shape(x).count
      let rank = n.node.opType == "Squeeze" ? inRank : inRank + axes.count
      guard axes.allSatisfy({ $0 >= -rank && $0 < rank }) else { throw NodeError("axes \(axes) out of range") }
      if n.node.opType == "Squeeze" {
        for axis in axes where n.shape(x)[(axis + rank) % rank] != 1 {
          throw NodeError("axis \(axis) has size \(n.shape(x)[(axis + rank) % rank]), not 1")
        }
      } else if axes.isEmpty {
        throw NodeError("Unsqueeze needs axes")
      }
      let kind: ONNXOp.Kind = n.node.opType == "Squeeze" ? .squeeze(axes: axes) : .unsqueeze(axes: axes)
      n.define(0, try n.movement(ONNXOp(kind), x))
    case "Expand":
      let x = try n.required(0, "input")
      if let shape = try n.runtime(1) {
        n.define(0, try n.emit(ONNXShapeDependentOp(.expand), [x, shape], hints: [n.hint(0), n.hint(1)]))
        return
      }
      let target = try n.requiredConstant(1, "shape").ints
      guard broadcastShape(n.shape(x), target) != nil, target.allSatisfy({ $0 >= 1 }) else {
        throw NodeError("cannot expand shape \(n.shape(x)) to \(target)")
      }
      n.define(0, try n.movement(ONNXOp(.expand(shape: target)), x))
    case "Concat":
      try concat(n)
    case "Split": try split(n)
    case "Slice": try slice(n)
    case "Gather":
      let x = try n.required(0, "data")
      if let indices = try n.runtime(1) {
        try gatherAtRunTime(n, x, indices)
        return
      }
      let indices = try n.requiredConstant(1, "indices")
      let rank = n.shape(x).count
      var axis = try a.int("axis", 0)
      if axis < 0 { axis += rank }
      guard axis >= 0, axis < rank else { throw NodeError("axis out of range") }
      let dim = n.shape(x)[axis]
      guard indices.ints.allSatisfy({ $0 >= -dim && $0 < dim }) else {
        throw NodeError("indices out of range for axis \(axis) of size \(dim)")
      }
      n.define(0, try n.movement(ONNXOp(.gather(axis: axis, indices: indices.ints, indicesShape: indices.shape)), x))
    case "Pad": try pad(n)
    case "Softmax", "LogSoftmax":
      let x = try n.required(0, "input")
      let rank = n.shape(x).count
      let coerced = n.opset < 13
      var axis = try a.int("axis", coerced ? 1 : -1)
      if axis < 0 { axis += rank }
      guard axis >= 0, axis < rank else { throw NodeError("axis out of range") }
      let last = axis == rank - 1
      let soft = n.node.opType == "Softmax"
      let layer: Layer =
        last
        ? Function(soft ? .softmax : .logSoftmax)
        : ONNXOp(soft ? .softmax(axis: axis, coerced: coerced) : .logSoftmax(axis: axis, coerced: coerced))
      n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    case "ReduceMean", "ReduceSum":
      let x = try n.required(0, "data")
      let rank = n.shape(x).count
      let axes = try n.ints(attribute: "axes", input: 1, "axes") ?? []
      guard axes.allSatisfy({ $0 >= -rank && $0 < rank }) else { throw NodeError("axes \(axes) out of range") }
      if axes.isEmpty, try a.int("noop_with_empty_axes", 0) != 0 {
        n.define(0, x)
        return
      }
      let keep = try a.int("keepdims", 1) != 0
      let normalized = axes.map { ($0 + rank) % rank }
      let kind: ONNXOp.Kind =
        n.node.opType == "ReduceMean"
        ? .reduceMean(axes: normalized, keepDims: keep) : .reduceSum(axes: normalized, keepDims: keep)
      n.define(0, try n.emit(ONNXOp(kind), [x], hints: [n.hint(0)]))
    case "QuantizeLinear", "DequantizeLinear": try quantization(n)
    case "Attention": try attention(n)
    case "LayerNormalization", "RMSNormalization", "InstanceNormalization", "GroupNormalization", "DepthToSpace",
      "SpaceToDepth", "Tile":
      try convertNormalization(n)
    case "Resize", "Upsample": try resize(n)
    case "If": try conditional(n)
    case "Loop", "Scan": try loop(n)
    case _ where lossOps.contains(n.node.opType): try loss(n)
    default:
      throw NodeError("operator is not supported")
    }
  }

  // MARK: - Constants

  static func constantAttribute(_ n: NodeConversion) throws(NodeError) -> ONNXConstant {
    let a = n.attributes
    if let t = a.tensor("value") { return try n.importer.decoder.decode(t) }
    if let attribute = a.attribute("value_float") { return ONNXConstant(Tensor(attribute.f)) }
    if let v = try a.floats("value_floats") { return ONNXConstant(Tensor(shape: [v.count], scalars: v)) }
    if let attribute = a.attribute("value_int") { return ONNXConstant(shape: [], ints: [Int(clamping: attribute.i)]) }
    if let v = try a.ints("value_ints") { return ONNXConstant(shape: [v.count], ints: v) }
    throw NodeError("no supported value attribute (value, value_float(s), value_int(s))")
  }

  /// `Shape`: folded at load when the sizes it reads are fixed or the batch (a dimension that
  /// is the batch in every probing pass becomes `ONNXConstant.batchMarker`), computed at run
  /// time when it reads another symbolic size (a width, a sequence length).
  static func shape(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "data")
    let passes = n.shapes(x)
    let start = try n.attributes.int("start", 0)
    let end = n.attributes.has("end") ? try n.attributes.int("end", 0) : nil
    let parts = passes.map { ONNXShapeDependentOp.part($0, start: start, end: end) }
    var dims = parts[0]
    var computed = false
    for i in dims.indices where parts.contains(where: { $0[i] != dims[i] }) {
      if SymbolicDimensions.isBatch(parts.map { $0[i] }) {
        dims[i] = ONNXConstant.batchMarker
      } else {
        computed = true
      }
    }
    guard computed else {
      n.define(0, .constant(ONNXConstant(shape: [dims.count], ints: dims)))
      return
    }
    n.define(0, try n.emit(ONNXShapeDependentOp(.shapeOf(start: start, end: end)), inputs: [0]))
  }

  /// Gather with indices computed at run time (token ids): an embedding lookup whose table is a
  /// trainable parameter when it is a constant, a layer of two inputs otherwise.
  static func gatherAtRunTime(_ n: NodeConversion, _ x: ValueRef, _ indices: ValueRef) throws(NodeError) {
    let rank = n.shape(x).count
    var axis = try n.attributes.int("axis", 0)
    if axis < 0 { axis += rank }
    guard axis >= 0, axis < rank else { throw NodeError("axis out of range") }
    if let table = x.constant, table.isFloatingPoint {
      let layer = ONNXGatherTable(table: table.floats, axis: axis)
      n.define(0, try n.emit(layer, [indices], hints: [n.hint(1)]))
    } else {
      n.define(0, try n.emit(ONNXGatherTable(axis: axis), [x, indices], hints: [n.hint(0), n.hint(1)]))
    }
  }

  static func checkReshape(_ target: [Int], of input: [Int], allowZero: Bool) throws(NodeError) {
    do {
      _ = try ONNXOp.reshapeShape(target, allowZero: allowZero, of: input)
    } catch {
      throw NodeError(error.reason)
    }
  }

  // MARK: - Weighted layers

  static func gemm(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    var x = try n.required(0, "A")
    let (alpha, beta) = (try a.float("alpha", 1), try a.float("beta", 1))
    let (transA, transB) = (try a.int("transA", 0) != 0, try a.int("transB", 0) != 0)
    guard n.shape(x).count == 2 else { throw NodeError("A has shape \(n.shape(x)); Gemm needs a matrix") }
    if transA { x = try n.movement(ONNXOp(.transpose(permutation: [1, 0])), x) }
    let inputs = n.shape(x)[1]
    if let b = try n.input(1)?.constant {
      guard b.shape.count == 2 else { throw NodeError("B has shape \(b.shape); Gemm needs a matrix") }
      var weight = transB ? b.floats : b.floats.transposed.contiguous()
      guard weight.shape[1] == inputs else {
        throw NodeError("A has \(inputs) columns but B has \(weight.shape[1]) rows")
      }
      if alpha != 1 { weight = weight * alpha }
      let outputs = weight.shape[0]
      var bias: Tensor<Float>?
      var extra: ValueRef?
      if let c = try n.input(2) {
        if let cc = c.constant, cc.count == outputs || cc.count == 1, cc.shape.count <= 1 || cc.shape.first == 1 {
          let values = cc.count == 1 ? Array(repeating: cc.floats.scalars[0], count: outputs) : cc.floats.scalars
          bias = Tensor(shape: [outputs], scalars: values.map { $0 * beta })
        } else {
          extra = c
        }
      }
      var y = try n.emit(Linear(weight: Parameter(weight), bias: bias.map { Parameter($0) }), [x], hints: [n.hint(0)])
      if let extra {
        let scaled = beta == 1 ? extra : try n.emit(ONNXOp(.mul), [extra, .constant(ONNXConstant(Tensor(beta)))])
        y = try n.emit(Function(.add), [y, scaled], hints: [n.hint(2), n.hint(2)], suffix: "_c")
      }
      n.define(0, y)
      return
    }
    var b = try n.required(1, "B")
    if transB { b = try n.movement(ONNXOp(.transpose(permutation: [1, 0])), b) }
    var y = try n.emit(ONNXOp(.matmul), [x, b], hints: [n.hint(0), n.hint(1)])
    if alpha != 1 { y = try n.emit(ONNXOp(.mul), [y, .constant(ONNXConstant(Tensor(alpha)))], suffix: "_alpha") }
    if let c = try n.input(2) {
      let scaled =
        beta == 1 ? c : try n.emit(ONNXOp(.mul), [c, .constant(ONNXConstant(Tensor(beta)))], suffix: "_beta")
      y = try n.emit(Function(.add), [y, scaled], hints: [n.hint(2), n.hint(2)], suffix: "_c")
    }
    n.define(0, y)
  }

  static func matmul(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "A")
    let b = try n.required(1, "B")
    let (sa, sb) = (n.shape(x), n.shape(b))
    if sa.count >= 2, sb.count == 2, sa.last == sb[0], x.constant == nil,
      let quantized = n.importer.blockQuantized[n.node.input[1]]
    {
      n.define(0, try n.emit(quantized.layer(), [x], hints: [n.hint(0)]))
      return
    }
    n.define(0, try product(n, x, b))
  }

  /// The matrix product of `x` and `b`: a Linear holding `b` when it is a constant matrix and
  /// `x` a run-time value of rank 2 or more (a transformer's [batch, sequence, hidden] times
  /// [hidden, out] included: the Linear runs over the last axis, so compression finds the
  /// weight). Two run-time operands, or a batch of constant matrices, stay MatMul. `hints` name
  /// constant operands; they must be the node's inputs' names only when the
  /// operands are those inputs (a name is the key its constant node is shared by).
  static func product(
    _ n: NodeConversion, _ x: ValueRef, _ b: ValueRef, hints: [String]? = nil
  ) throws(NodeError) -> ValueRef {
    let (sa, sb) = (n.shape(x), n.shape(b))
    guard !sa.isEmpty, !sb.isEmpty else { throw NodeError("MatMul needs operands of rank 1 or more") }
    let k = sb.count == 1 ? sb[0] : sb[sb.count - 2]
    guard sa.last == k else { throw NodeError("shapes \(sa) and \(sb) do not multiply") }
    if sa.count >= 2, x.constant == nil, let w = b.constant, w.shape.count == 2 {
      return try n.emit(Linear(weight: Parameter(w.floats.transposed.contiguous()), bias: nil), [x], hints: [n.hint(0)])
    }
    if sa.count > 2, sb.count > 2, broadcastShape(Array(sa.dropLast(2)), Array(sb.dropLast(2))) == nil {
      throw NodeError("batch dimensions of \(sa) and \(sb) do not broadcast")
    }
    return try n.emit(ONNXOp(.matmul), [x, b], hints: hints ?? [n.hint(0), n.hint(1)])
  }

  /// Dropout as run for inference: the identity (a Lathe dropout layer, active when the model
  /// trains), its mask all ones. A graph that asks for training mode with a ratio above zero
  /// wants random output, which an inference import cannot give.
  static func dropout(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "data")
    let ratio = try n.float(input: 1, attribute: "ratio", 0.5)
    guard ratio >= 0, ratio < 1 else { throw NodeError("ratio \(ratio) is not in [0, 1)") }
    let training = try n.constant(2, "training_mode")?.ints.first ?? 0
    guard training == 0 || ratio == 0 else {
      throw NodeError("training_mode is true with ratio \(ratio): its output is random; Lathe imports inference graphs")
    }
    n.define(0, try n.emit(Function(.dropout(rate: ratio)), [x], hints: [n.hint(0)]))
    if n.node.output.count > 1, !n.node.output[1].isEmpty {
      n.define(1, try n.emit(ONNXOp(.onesLike), [x], hints: [n.hint(0)], suffix: "_mask"))
    }
  }

  static func batchNorm(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let x = try n.required(0, "X")
    let scale = try n.requiredConstant(1, "scale").floats
    let shift = try n.requiredConstant(2, "B").floats
    let mean = try n.requiredConstant(3, "mean").floats
    let variance = try n.requiredConstant(4, "var").floats
    let shape = n.shape(x)
    guard shape.count >= 2 else { throw NodeError("input \(shape) has no channel axis") }
    let channels = shape[1]
    guard [scale, shift, mean, variance].allSatisfy({ $0.count == channels }) else {
      throw NodeError("scale, B, mean and var need \(channels) values each")
    }
    let (epsilon, momentum) = (try a.float("epsilon", 1e-5), try a.float("momentum", 0.9))
    if n.opset >= 14, try a.int("training_mode", 0) != 0 {
      // Training mode: batch statistics, and the running ones updated (outputs 1 and 2).
      let outputs: [ONNXBatchNormTraining.Output] = [.normalized, .mean, .variance]
      for (i, output) in outputs.enumerated() where i < n.node.output.count && !n.node.output[i].isEmpty {
        let layer = ONNXBatchNormTraining(
          output, scale: scale.reshaped([channels]), bias: shift.reshaped([channels]),
          mean: mean.reshaped([channels]), variance: variance.reshaped([channels]), epsilon: epsilon,
          momentum: momentum)
        n.define(i, try n.emit(layer, [x], hints: [n.hint(0)], suffix: i == 0 ? "" : "_\(output.rawValue)"))
      }
      return
    }
    for output in n.node.output.dropFirst() where !output.isEmpty && n.importer.consumers[output, default: 0] > 0 {
      throw NodeError("its training-mode outputs (running statistics) are used without training_mode=1")
    }
    if case .runtime(let name, _) = x, let conv = n.importer.layer(named: name) as? Conv2d,
      conv.weight.shape.first == channels, n.isPrivate(n.node.input[0])
    {
      // Inference BatchNormalization right after a convolution only it reads: folded into the
      // convolution's weights and bias, as ONNX Runtime does when it builds a session. One pass
      // over the activations instead of two; the weights stay trainable.
      n.importer.replaceLayer(
        of: name, with: foldedBatchNorm(conv, scale: scale, shift: shift, mean: mean, variance: variance, epsilon))
      n.define(0, x)
      return
    }
    let layer = BatchNorm(channels: channels, epsilon: epsilon, momentum: 1 - momentum)
    layer.gamma.value = scale.reshaped([channels])
    layer.beta.value = shift.reshaped([channels])
    layer.runningMean.value = mean.reshaped([channels])
    layer.runningVariance.value = variance.reshaped([channels])
    n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
  }

  /// `conv` followed by inference batch normalization, as one convolution: each output channel's
  /// weights times γ/√(var+ε), and its bias (b − mean)·γ/√(var+ε) + β (in doubles).
  static func foldedBatchNorm(
    _ conv: Conv2d, scale: Tensor<Float>, shift: Tensor<Float>, mean: Tensor<Float>, variance: Tensor<Float>,
    _ epsilon: Float
  ) -> Conv2d {
    let channels = conv.weight.shape[0]
    let factors = (0..<channels).map { c in
      Double(scale.scalars[c]) / (Double(variance.scalars[c]) + Double(epsilon)).squareRoot()
    }
    let perChannel = conv.weight.value.count / max(channels, 1)
    let weights = conv.weight.value.contiguous().scalars.enumerated().map { i, w in
      Float(Double(w) * factors[i / max(perChannel, 1)])
    }
    let bias = (0..<channels).map { c in
      let b = Double(conv.bias?.value.scalars[c] ?? 0)
      return Float((b - Double(mean.scalars[c])) * factors[c] + Double(shift.scalars[c]))
    }
    return Conv2d(
      weight: Parameter(Tensor(shape: conv.weight.shape, scalars: weights)),
      bias: Parameter(Tensor(shape: [channels], scalars: bias)), stride: conv.stride, padding: conv.padding,
      dilation: conv.dilation, groups: conv.groups)
  }
}
