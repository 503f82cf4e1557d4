import Foundation
import LatheCompress
import LatheTensor

/// One Lathe node written as ONNX nodes; the last one writes `output`.
struct LayerExport {
  let builder: GraphBuilder
  let node: Node
  let inputs: [String]
  let output: String

  var name: String { node.name }

  @discardableResult
  func emit(_ op: String, _ ins: [String], _ attributes: [Onnx_AttributeProto] = [], final: Bool = true) -> String {
    builder.node(op, ins, output: final ? output : nil, name: name, attributes)
  }

  func fail(_ reason: String) -> ONNXError { .unexportable(node: name, op: node.layer.op, reason: reason) }

  /// Writes the layer, then the ReLU it folded in (if any): the layer's product goes to an
  /// intermediate value and the Relu writes the node's output, so every exported graph computes
  /// what the layer's forward pass computes.
  func export() throws(ONNXError) {
    guard let folding = node.layer as? ReLUFolding, folding.relu else { return try exportLayer() }
    let product = builder.fresh("\(name)_product")
    try LayerExport(builder: builder, node: node, inputs: inputs, output: product).exportLayer()
    emit("Relu", [product])
  }

  /// The layer's own operators, without a folded activation.
  private func exportLayer() throws(ONNXError) {
    let layer = node.layer
    switch layer {
    case let l as Linear:
      let w = builder.floats("\(name).weight", l.weight.value)
      let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
      emit("Gemm", [inputs[0], w] + (b.map { [$0] } ?? []), [Attr.int("transB", 1)])
    case let l as Conv2d:
      let w = builder.floats("\(name).weight", l.weight.value)
      let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
      emit(
        "Conv", [inputs[0], w] + (b.map { [$0] } ?? []), conv(l.weight.shape, l.stride, l.padding, l.dilation, l.groups)
      )
    case let l as BatchNorm:
      let parts = [l.gamma, l.beta, l.runningMean, l.runningVariance].enumerated().map { k, p in
        builder.floats("\(name).\(["scale", "bias", "mean", "var"][k])", p.value)
      }
      emit(
        "BatchNormalization", [inputs[0]] + parts,
        [Attr.float("epsilon", l.epsilon), Attr.float("momentum", 1 - l.momentum)])
    case let l as Pool2d:
      let g = l.geometry
      var attributes = [
        Attr.ints("kernel_shape", [g.kernelHeight, g.kernelWidth]), Attr.ints("strides", g.stride),
        Attr.ints("pads", g.padding), Attr.int("ceil_mode", g.ceilMode ? 1 : 0),
      ]
      if l.kind == .max {
        attributes.append(Attr.ints("dilations", g.dilation))
      } else {
        guard g.dilation == [1, 1] else { throw fail("dilated average pooling needs opset 19") }
        attributes.append(Attr.int("count_include_pad", l.countIncludePad ? 1 : 0))
      }
      emit(l.kind == .max ? "MaxPool" : "AveragePool", [inputs[0]], attributes)
    case let l as Function: try function(l.kind)
    case let l as ONNXOp: try onnxOp(l.kind)
    case let l as ONNXConstantLayer:
      builder.initializers.append(TensorEncoder.proto(output, l.value.value))
    case let l as ONNXPRelu:
      emit("PRelu", [inputs[0], builder.floats("\(name).slope", l.slope.value)])
    case let l as ONNXConvTranspose:
      let w = builder.floats("\(name).weight", l.weight.value)
      let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
      var attributes = conv(l.weight.shape, l.stride, l.padding, l.dilation, l.groups)
      attributes.append(Attr.ints("output_padding", l.outputPadding))
      emit("ConvTranspose", [inputs[0], w] + (b.map { [$0] } ?? []), attributes)
    case let l as ONNXConv:
      let w = builder.floats("\(name).weight", l.weight.value)
      let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
      let window = l.window
      emit(
        "Conv", [inputs[0], w] + (b.map { [$0] } ?? []),
        conv(l.weight.shape, window.stride, window.pads, window.dilation, l.groups))
    case let l as ONNXPool: try pool(l)
    case let l as WeightOnlyLinear: try weightOnly(l)
    case let l as ONNXBatchNormTraining:
      guard builder.opset >= 14 else { throw fail("training-mode BatchNormalization needs opset 14") }
      let parts = [l.scale, l.bias, l.runningMean, l.runningVariance].enumerated().map { k, p in
        builder.floats("\(name).\(["scale", "bias", "mean", "var"][k])", p.value)
      }
      let attributes = [
        Attr.float("epsilon", l.epsilon), Attr.float("momentum", l.momentum), Attr.int("training_mode", 1),
      ]
      let y = emit("BatchNormalization", [inputs[0]] + parts, attributes, final: false)
      let outputs = [y, y + "_mean", y + "_var"]
      builder.nodes[builder.nodes.count - 1].output = outputs
      let chosen = ["normalized": 0, "mean": 1, "variance": 2][l.output.rawValue]!
      emit("Identity", [outputs[chosen]])
    case let l as ONNXQuantization: try quantization(l)
    case let l as QuantizedLinear:
      try quantized(
        weights: l.weights, shape: [l.weights.rows, l.weights.columns], bias: l.bias, input: l.input
      ) {
        (x: String, w: String, b: String?, final: Bool) in
        emit("Gemm", [x, w] + (b.map { [$0] } ?? []), [Attr.int("transB", 1)], final: final)
      }
    case let l as QuantizedConv2d:
      let shape = [l.weights.rows, l.inChannels] + l.kernelSize
      try quantized(weights: l.weights, shape: shape, bias: l.bias, input: l.input) {
        (x: String, w: String, b: String?, final: Bool) in
        emit("Conv", [x, w] + (b.map { [$0] } ?? []), conv(shape, l.stride, l.padding, l.dilation, 1), final: final)
      }
    case let l as SparseLinear:
      let w = builder.floats("\(name).weight", l.weights.dense())
      let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
      emit("Gemm", [inputs[0], w] + (b.map { [$0] } ?? []), [Attr.int("transB", 1)])
    case let l as EncodedConv2d:
      let spec = l.spec
      let w = builder.floats("\(name).weight", l.weights.dense())
      let b = l.parameters.first.map { builder.floats("\(name).bias", $0.parameter.value) }
      let attributes = conv(
        l.weights.shape, (try? spec.ints("stride")) ?? [1, 1], (try? spec.ints("padding")) ?? [0, 0, 0, 0],
        (try? spec.ints("dilation")) ?? [1, 1], (try? spec.int("groups")) ?? 1)
      emit("Conv", [inputs[0], w] + (b.map { [$0] } ?? []), attributes)
    default:
      throw fail("no ONNX form for this layer")
    }
  }

  func conv(_ shape: [Int], _ stride: [Int], _ padding: [Int], _ dilation: [Int], _ groups: Int)
    -> [Onnx_AttributeProto]
  {
    [
      Attr.ints("kernel_shape", Array(shape.dropFirst(2))), Attr.ints("strides", stride), Attr.ints("pads", padding),
      Attr.ints("dilations", dilation), Attr.int("group", groups),
    ]
  }

  func pool(_ l: ONNXPool) throws(ONNXError) {
    let w = l.window
    var attributes = [
      Attr.ints("kernel_shape", w.kernel), Attr.ints("strides", w.stride), Attr.ints("pads", w.pads),
      Attr.int("ceil_mode", w.ceilMode ? 1 : 0),
    ]
    switch l.kind {
    case .max: emit("MaxPool", [inputs[0]], attributes + [Attr.ints("dilations", w.dilation)])
    case .average:
      guard w.dilation.allSatisfy({ $0 == 1 }) else { throw fail("dilated average pooling needs opset 19") }
      attributes.append(Attr.int("count_include_pad", l.countIncludePad ? 1 : 0))
      emit("AveragePool", [inputs[0]], attributes)
    case .indices:
      // The values output is unused here; the indices come out as int64, cast to the engine's fp32.
      attributes += [Attr.ints("dilations", w.dilation), Attr.int("storage_order", l.storageOrder)]
      let pooled = builder.node("MaxPool", [inputs[0]], name: name, attributes)
      builder.nodes[builder.nodes.count - 1].output = [pooled + "_values", pooled]
      emit("Cast", [pooled], [Attr.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
    }
  }

  func function(_ kind: Function.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .relu: emit("Relu", [x])
    case .sigmoid: emit("Sigmoid", [x])
    case .tanh: emit("Tanh", [x])
    case .softmax: emit("Softmax", [x], [Attr.int("axis", -1)])
    case .logSoftmax: emit("LogSoftmax", [x], [Attr.int("axis", -1)])
    case .leakyRelu(let slope): emit("LeakyRelu", [x], [Attr.float("alpha", slope)])
    case .flatten(let axis):
      if axis == 1 {
        emit("Flatten", [x], [Attr.int("axis", 1)])
      } else {
        emit("Reshape", [x, builder.int64s("\(name).shape", Array(repeating: 0, count: axis) + [-1])])
      }
    case .globalAvgPool: emit("GlobalAveragePool", [x])
    case .dropout: emit("Identity", [x])
    case .add:
      if inputs.count == 2 { emit("Add", inputs) } else { emit("Sum", inputs) }
    case .concat(let axis): emit("Concat", inputs, [Attr.int("axis", axis)])
    case .gelu:
      // 0.5 · x · (1 + erf(x / √2)); Gelu itself only arrives in opset 20.
      let root2 = builder.floats("\(name).sqrt2", Tensor(Float(2).squareRoot()))
      let one = builder.floats("\(name).one", Tensor(1))
      let half = builder.floats("\(name).half", Tensor(0.5))
      let scaled = emit("Div", [x, root2], final: false)
      let erf = emit("Erf", [scaled], final: false)
      let shifted = emit("Add", [erf, one], final: false)
      let product = emit("Mul", [x, shifted], final: false)
      emit("Mul", [product, half])
    }
  }

  func onnxOp(_ kind: ONNXOp.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .identity: emit("Identity", [x])
    case .onesLike:
      let shape = emit("Shape", [x], final: false)
      emit(
        "ConstantOfShape", [shape], [Attr.tensor("value", TensorEncoder.proto("one", Tensor(shape: [1], scalars: [1])))]
      )
    case .unary(let op): emit(op, [x])
    case .sub: emit("Sub", inputs)
    case .mul: emit("Mul", inputs)
    case .div: emit("Div", inputs)
    case .matmul: emit("MatMul", inputs)
    case .elu(let alpha): emit("Elu", [x], [Attr.float("alpha", alpha)])
    case .selu(let alpha, let gamma): emit("Selu", [x], [Attr.float("alpha", alpha), Attr.float("gamma", gamma)])
    case .softplus: emit("Softplus", [x])
    case .softsign: emit("Softsign", [x])
    case .hardSigmoid(let alpha, let beta):
      emit("HardSigmoid", [x], [Attr.float("alpha", alpha), Attr.float("beta", beta)])
    case .clip(let low, let high):
      emit("Clip", [x, builder.floats("\(name).min", Tensor(low)), builder.floats("\(name).max", Tensor(high))])
    case .reshape(let shape, let allowZero):
      let hasInferred = shape.contains(-1)
      let target = shape.map { $0 == ONNXConstant.batchMarker ? (hasInferred ? 0 : -1) : $0 }
      emit("Reshape", [x, builder.int64s("\(name).shape", target)], allowZero ? [Attr.int("allowzero", 1)] : [])
    case .flatten(let axis): emit("Flatten", [x], [Attr.int("axis", axis)])
    case .transpose(let permutation):
      emit("Transpose", [x], permutation.isEmpty ? [] : [Attr.ints("perm", permutation)])
    case .squeeze(let axes): emit("Squeeze", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)])
    case .unsqueeze(let axes): emit("Unsqueeze", [x, builder.int64s("\(name).axes", axes)])
    case .slice(let starts, let ends, let axes, let steps):
      emit(
        "Slice",
        [
          x, builder.int64s("\(name).starts", starts), builder.int64s("\(name).ends", ends),
          builder.int64s("\(name).axes", axes.isEmpty ? Array(0..<starts.count) : axes),
          builder.int64s("\(name).steps", steps.isEmpty ? Array(repeating: 1, count: starts.count) : steps),
        ])
    case .gather(let axis, let indices, let indicesShape):
      let proto = TensorEncoder.proto("\(name).indices", shape: indicesShape, int64: indices)
      emit("Gather", [x, builder.initializer(proto)], [Attr.int("axis", axis)])
    case .pad(let pads, let mode, let value):
      emit(
        "Pad", [x, builder.int64s("\(name).pads", pads), builder.floats("\(name).value", Tensor(value))],
        [Attr.string("mode", mode)])
    case .expand(let shape): emit("Expand", [x, builder.int64s("\(name).shape", shape)])
    case .lrn(let size, let alpha, let beta, let bias):
      emit(
        "LRN", [x],
        [Attr.int("size", size), Attr.float("alpha", alpha), Attr.float("beta", beta), Attr.float("bias", bias)])
    case .globalMaxPool: emit("GlobalMaxPool", [x])
    case .reduceMean(let axes, let keep):
      let keepDims = Attr.int("keepdims", keep ? 1 : 0)
      if builder.opset >= 18 {
        // Opset 18 moved ReduceMean's axes from an attribute to an input.
        emit("ReduceMean", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)], [keepDims])
      } else {
        emit("ReduceMean", [x], (axes.isEmpty ? [] : [Attr.ints("axes", axes)]) + [keepDims])
      }
    case .reduceSum(let axes, let keep):
      emit(
        "ReduceSum", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)],
        [Attr.int("keepdims", keep ? 1 : 0)])
    case .softmax(let axis, let coerced), .logSoftmax(let axis, let coerced):
      let op = if case .softmax = kind { "Softmax" } else { "LogSoftmax" }
      guard coerced else {
        emit(op, [x], [Attr.int("axis", axis)])
        return
      }
      // Opset < 13 semantics: normalise over everything from `axis` on, then restore the shape.
      let flat = emit("Flatten", [x], [Attr.int("axis", axis)], final: false)
      let normalized = emit(op, [flat], [Attr.int("axis", 1)], final: false)
      let shape = emit("Shape", [x], final: false)
      emit("Reshape", [normalized, shape])
    }
  }

  func quantization(_ l: ONNXQuantization) throws(ONNXError) {
    let perChannel = l.scale.shape.count == 1
    let scale = builder.floats("\(name).scale", l.scale.value)
    let zeros = l.zeroPoint.value.scalars.map { Int($0.rounded()) }
    let zeroName: String
    switch l.range {
    case 0...255:
      zeroName = builder.initializer(
        TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, uint8: zeros.map { UInt8($0) }))
    case -128...127:
      zeroName = builder.initializer(
        TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, int8: zeros.map { Int8($0) }))
    case -8...7 where builder.opset >= 21:
      zeroName = builder.initializer(TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, int4: zeros))
    default: throw fail("only int8 and uint8 (and from opset 21 int4) quantization can be written")
    }
    var attributes = perChannel || l.blockSize > 0 ? [Attr.int("axis", l.axis)] : []
    if l.blockSize > 0 { attributes.append(Attr.int("block_size", l.blockSize)) }
    emit(l.direction == .quantize ? "QuantizeLinear" : "DequantizeLinear", [inputs[0], scale, zeroName], attributes)
  }

  /// An int8 layer as QDQ: the activation quantized and dequantized (static parameters, or
  /// DynamicQuantizeLinear for dynamic ones), the weight levels dequantized per output channel,
  /// the bias as int32 at scale input·weight when the input scale is static, then the fp32 op.
  func quantized(
    weights: QuantizedWeights, shape: [Int], bias: Tensor<Float>?, input: InputQuantization,
    op: (String, String, String?, Bool) -> String
  ) throws(ONNXError) {
    let rows = weights.rows
    let scales =
      weights.scales.count == rows ? weights.scales : Array(repeating: weights.scales.first ?? 1, count: rows)
    // The levels are written as uint8 with zero point 128: the same values, but ONNX Runtime then
    // runs its U8U8 kernels, which are exact on every CPU. With int8 weights it picks U8S8, whose
    // AVX2 and plain AVX-512 kernels (`vpmaddubsw`) saturate pairs of u8·s8 products at int16
    // and, on LeNet-5, lost 0.5 points of accuracy against what Lathe computes.
    let qWeight = builder.initializer(
      TensorEncoder.proto(
        "\(name).weight_quantized", shape: shape, uint8: weights.values.map { UInt8(Int($0) + 128) }))
    let wScale = builder.floats("\(name).weight_scale", Tensor(shape: [rows], scalars: scales))
    let wZero = builder.initializer(
      TensorEncoder.proto("\(name).weight_zero_point", shape: [rows], uint8: Array(repeating: 128, count: rows)))
    let weight = emit("DequantizeLinear", [qWeight, wScale, wZero], [Attr.int("axis", 0)], final: false)
    var x = inputs[0]
    var biasName: String?
    switch input {
    case .fixed(let p):
      let scale = builder.floats("\(name).input_scale", Tensor(p.scale))
      let zero = builder.initializer(
        TensorEncoder.proto("\(name).input_zero_point", shape: [], uint8: [UInt8(clamping: p.zeroPoint)]))
      let q = emit("QuantizeLinear", [x, scale, zero], final: false)
      x = emit("DequantizeLinear", [q, scale, zero], final: false)
      if let bias {
        let biasScales = scales.map { $0 * p.scale }
        let q32 = zip(bias.scalars, biasScales).map { b, s -> Int32 in
          s > 0 ? Int32(clamping: Int((b / s).rounded())) : 0
        }
        var proto = Onnx_TensorProto()
        proto.name = "\(name).bias_quantized"
        proto.dims = [Int64(rows)]
        proto.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        proto.rawData = q32.withUnsafeBufferPointer { Data(buffer: $0) }
        let qBias = builder.initializer(proto)
        let bScale = builder.floats("\(name).bias_scale", Tensor(shape: [rows], scalars: biasScales))
        let bZero = builder.initializer(
          {
            var z = Onnx_TensorProto()
            z.name = "\(name).bias_zero_point"
            z.dims = [Int64(rows)]
            z.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
            z.rawData = Data(count: rows * 4)
            return z
          }())
        biasName = emit("DequantizeLinear", [qBias, bScale, bZero], [Attr.int("axis", 0)], final: false)
      }
    case .dynamic:
      let q = builder.node("DynamicQuantizeLinear", [x], name: name)
      builder.nodes[builder.nodes.count - 1].output = [q, q + "_scale", q + "_zero_point"]
      x = emit("DequantizeLinear", [q, q + "_scale", q + "_zero_point"], final: false)
      biasName = bias.map { builder.floats("\(name).bias", $0) }
    }
    _ = op(x, weight, biasName, true)
  }
}
