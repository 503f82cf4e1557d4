import LatheTensor

/// Builds the layers LatheCompress adds to model files, so `ModelFile.load(from:builders:)`
/// opens compressed models: pass `CompressedLayers.builders`.
public struct CompressedLayers: LayerBuilding {
  public static let builders: [LayerBuilding] = [CompressedLayers()]

  public func makeLayer(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    switch spec.op {
    case "sparse_linear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      let encoding = try encodingOf(spec)
      let relu = try spec.bool("relu", default: false)
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        SparseLinear(
          weights: try EncodedWeights.restore(
            from: tensors, prefix: "weight.", shape: linear.weight.shape, encoding: encoding, node: node),
          bias: try restoredBias(linear.bias, tensors, node), relu: relu)
      }
    case "sparse24_linear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        SemiStructuredLinear(
          weights: try SemiStructuredWeights.restore(
            from: tensors, prefix: "weight.", rows: linear.outputs, columns: linear.inputs, node: node),
          bias: try restoredBias(linear.bias, tensors, node)?.value)
      }
    case "encoded_conv2d":
      let conv = try LayerFactory.make(LayerSpec(op: "conv2d", attributes: spec.attributes)) as! Conv2d
      let encoding = try encodingOf(spec)
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        let weights = try EncodedWeights.restore(
          from: tensors, prefix: "weight.", shape: conv.weight.shape, encoding: encoding, node: node)
        return EncodedConv2d(
          weights: weights,
          template: Conv2d(
            weight: conv.weight, bias: try restoredBias(conv.bias, tensors, node), stride: conv.stride,
            padding: conv.padding, dilation: conv.dilation, groups: conv.groups))
      }
    case "qlinear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      let granularity = try granularityOf(spec)
      let relu = try spec.bool("relu", default: false)
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        QuantizedLinear(
          weights: try QuantizedWeights.restore(
            from: tensors, shape: linear.weight.shape, granularity: granularity, node: node),
          bias: try restoredBias(linear.bias, tensors, node)?.value,
          input: try InputQuantization.restore(spec: spec, tensors: tensors, node: node), relu: relu)
      }
    case "qconv2d":
      let conv = try LayerFactory.make(LayerSpec(op: "conv2d", attributes: spec.attributes)) as! Conv2d
      guard conv.groups == 1 || Int8Conversion.isDepthwise(conv) else {
        throw .badAttribute(op: spec.op, key: "groups", expected: "1, or in = out = groups (depthwise)")
      }
      let granularity = try granularityOf(spec)
      let relu = try spec.bool("relu", default: false)
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        QuantizedConv2d(
          weights: try QuantizedWeights.restore(
            from: tensors, shape: conv.weight.shape, granularity: granularity, node: node),
          bias: try restoredBias(conv.bias, tensors, node)?.value,
          input: try InputQuantization.restore(spec: spec, tensors: tensors, node: node), relu: relu,
          inChannels: conv.weight.shape[1], kernelSize: Array(conv.weight.shape[2...]), stride: conv.stride,
          padding: conv.padding, dilation: conv.dilation, groups: conv.groups)
      }
    case "wq_linear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      guard case .int(let bits) = spec.attributes["bits"], GroupQuantizedWeights.storableBits.contains(bits) else {
        throw .badAttribute(op: spec.op, key: "bits", expected: "2 to 8")
      }
      guard case .int(let groupSize) = spec.attributes["group_size"], groupSize > 0, groupSize % 32 == 0 else {
        throw .badAttribute(op: spec.op, key: "group_size", expected: "a positive multiple of 32")
      }
      var computesInFloat = false
      switch spec.attributes["compute"] {
      case nil: break
      case .string("fp32")?: computesInFloat = true
      default: throw .badAttribute(op: spec.op, key: "compute", expected: "\"fp32\" or absent")
      }
      let scaled = try spec.bool("input_scale", default: false)
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        WeightOnlyLinear(
          weights: try GroupQuantizedWeights.restore(
            from: tensors, rows: linear.outputs, columns: linear.inputs, bits: bits, groupSize: groupSize, node: node),
          bias: try restoredBias(linear.bias, tensors, node)?.value, computesInFloat: computesInFloat,
          inputScale: scaled ? try restoredInputScale(tensors, columns: linear.inputs, node: node) : nil)
      }
    case "float_coded_linear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      guard case .string(let name) = spec.attributes["format"], let format = FloatWeightFormat(rawValue: name) else {
        throw .badAttribute(op: spec.op, key: "format", expected: "fp8-e4m3, fp8-e5m2, mxfp4 or nvfp4")
      }
      return PendingLayer(spec: spec) { tensors, node throws(ModelError) in
        FloatCodedLinear(
          weights: try FloatCodedWeights.restore(
            from: tensors, format: format, rows: linear.outputs, columns: linear.inputs, node: node),
          bias: try restoredBias(linear.bias, tensors, node)?.value)
      }
    default:
      return nil
    }
  }

  private func encodingOf(_ spec: LayerSpec) throws(ModelError) -> EncodedWeights.Encoding {
    guard case .string(let name) = spec.attributes["encoding"], let e = EncodedWeights.Encoding(rawValue: name) else {
      throw .badAttribute(op: spec.op, key: "encoding", expected: "csr, codebook or huffman")
    }
    return e
  }

  private func granularityOf(_ spec: LayerSpec) throws(ModelError) -> QuantizationGranularity {
    guard case .string(let name) = spec.attributes["granularity"], let g = QuantizationGranularity(rawValue: name)
    else {
      throw .badAttribute(op: spec.op, key: "granularity", expected: "per-tensor or per-channel")
    }
    return g
  }
}

/// The bias of a rebuilt layer, read from the file (nil when the layer has none).
private func restoredBias(_ template: Parameter?, _ tensors: [String: AnyTensor], _ node: String) throws(ModelError)
  -> Parameter?
{
  guard let template else { return nil }
  let bias = Parameter(template.value, isTrainable: false)
  try bias.restore(from: tensors["bias"], name: "\(node).bias")
  return bias
}

/// AWQ's per-input scale of a weight-only layer: [in] fp32, every one positive and finite
/// (the layer divides its input by it).
private func restoredInputScale(_ tensors: [String: AnyTensor], columns: Int, node: String) throws(ModelError)
  -> Tensor<Float>
{
  let scale = Parameter(.zeros([columns]), isTrainable: false)
  try scale.restore(from: tensors["input_scale"], name: "\(node).input_scale")
  guard scale.value.scalars.allSatisfy({ $0 > 0 && $0.isFinite }) else {
    throw .invalidValue(parameter: "\(node).input_scale", reason: "input scales must be positive and finite")
  }
  return scale.value
}

/// A compressed layer between reading its spec and reading its tensors: `restore` builds the
/// real layer, which the model then puts in its place.
final class PendingLayer: LayerPlaceholder {
  typealias Build = (_ tensors: [String: AnyTensor], _ node: String) throws(ModelError) -> Layer
  let spec: LayerSpec
  let build: Build
  private(set) var resolved: Layer?

  init(spec: LayerSpec, build: @escaping Build) {
    self.spec = spec
    self.build = build
  }

  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    preconditionFailure("a placeholder layer never runs: the model replaces it when its file is read")
  }

  func copy() -> Layer { PendingLayer(spec: spec, build: build) }

  func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    resolved = try build(tensors, node)
  }
}
