import LatheTensor

/// Builds the layers LatheCompress adds to model files, so `ModelFile.load(from:builders:)`
/// opens compressed models: pass `CompressedLayers.builders`.
public struct CompressedLayers: LayerBuilding {
  public static let builders: [LayerBuilding] = [CompressedLayers()]

  public func makeLayer(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    switch spec.op {
    case "sparse_linear":
      let linear = try LayerFactory.make(LayerSpec(op: "linear", attributes: spec.attributes)) as! Linear
      return PendingEncodedLayer(spec: spec, template: linear, encoding: try encoding(spec))
    case "encoded_conv2d":
      let conv = try LayerFactory.make(LayerSpec(op: "conv2d", attributes: spec.attributes)) as! Conv2d
      return PendingEncodedLayer(spec: spec, template: conv, encoding: try encoding(spec))
    default:
      return nil
    }
  }

  private func encoding(_ spec: LayerSpec) throws(ModelError) -> EncodedWeights.Encoding {
    guard case .string(let name) = spec.attributes["encoding"], let e = EncodedWeights.Encoding(rawValue: name) else {
      throw .badAttribute(op: spec.op, key: "encoding", expected: "csr, codebook or huffman")
    }
    return e
  }
}

/// A compressed layer between reading its spec and reading its tensors: `restore` decodes the
/// weights and builds the real layer, which the model then puts in its place.
final class PendingEncodedLayer: LayerPlaceholder {
  let spec: LayerSpec
  let template: Layer
  let encoding: EncodedWeights.Encoding
  private(set) var resolved: Layer?

  init(spec: LayerSpec, template: Layer, encoding: EncodedWeights.Encoding) {
    self.spec = spec
    self.template = template
    self.encoding = encoding
  }

  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    preconditionFailure("a placeholder layer never runs: the model replaces it when its file is read")
  }

  func copy() -> Layer { PendingEncodedLayer(spec: spec, template: template, encoding: encoding) }

  func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    let (shape, bias): ([Int], Parameter?) =
      if let linear = template as? Linear { (linear.weight.shape, linear.bias) } else {
        ((template as! Conv2d).weight.shape, (template as! Conv2d).bias)
      }
    let weights = try EncodedWeights.restore(from: tensors, prefix: "weight.", shape: shape, encoding: encoding, node: node)
    let restoredBias = try bias.map { b throws(ModelError) in
      let p = Parameter(b.value, isTrainable: false)
      try p.restore(from: tensors["bias"], name: "\(node).bias")
      return p
    }
    if template is Linear {
      resolved = SparseLinear(weights: weights, bias: restoredBias)
    } else {
      let conv = template as! Conv2d
      resolved = EncodedConv2d(
        weights: weights,
        template: Conv2d(
          weight: conv.weight, bias: restoredBias, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
          groups: conv.groups))
    }
  }
}
