import LatheTensor

extension Deployment {
  /// `inferenceModel` undone where it can be: fully connected and convolution layers whose
  /// weights are stored sparse in fp32 (what pruning leaves) become `Linear` and `Conv2d` again,
  /// with a mask that keeps their zeros zero and a trainable bias, and a ReLU folded into a
  /// sparse layer becomes a node of its own again. A model opened from a pruned file (a search
  /// trial's, a step model saved with `w`) can then be fine-tuned or pruned further.
  ///
  /// Layers stored in other forms stay as they are: shared (codebook, Huffman) weights have
  /// lost what training would move, 2:4 and int8 layers keep their own kernels. Returns the
  /// model itself when nothing changed.
  public static func trainingModel(_ model: Model) -> Model {
    let convertible = model.nodes.contains { node in
      switch node.layer {
      case let sparse as SparseLinear: return sparse.weights.encoding == .csr
      case let conv as EncodedConv2d: return conv.weights.encoding == .csr
      default: return false
      }
    }
    guard convertible else { return model }
    let result = model.copy()
    for node in result.nodes {
      switch node.layer {
      case let sparse as SparseLinear where sparse.weights.encoding == .csr:
        let linear = Linear(
          weight: maskedWeight(sparse.weights), bias: sparse.bias.map { Parameter($0.value, isTrainable: true) })
        result.replaceLayer(named: node.name, with: linear)
        if sparse.relu {
          result.insertNode(Function(.relu), named: reluName(after: node.name, in: result), after: node.name)
        }
      case let encoded as EncodedConv2d where encoded.weights.encoding == .csr:
        let template = encoded.conv
        let conv = Conv2d(
          weight: maskedWeight(encoded.weights), bias: template.bias.map { Parameter($0.value, isTrainable: true) },
          stride: template.stride, padding: template.padding, dilation: template.dilation, groups: template.groups)
        result.replaceLayer(named: node.name, with: conv)
      default:
        continue
      }
    }
    return result
  }

  /// The dense weight, trainable, masked to its nonzeros (pruned weights stay pruned).
  private static func maskedWeight(_ weights: EncodedWeights) -> Parameter {
    let parameter = Parameter(weights.dense())
    var mask = Tensor<Float>.zeros(weights.shape)
    mask.withUnsafeMutableBufferPointer { m in for position in weights.positions { m[position] = 1 } }
    parameter.mask = mask
    return parameter
  }

  /// A name for a ReLU taken out of `layer`: `layer_relu`, numbered if the graph has one.
  private static func reluName(after layer: String, in model: Model) -> String {
    let names = Set(model.nodes.map(\.name))
    var name = layer + "_relu"
    var number = 2
    while names.contains(name) {
      name = "\(layer)_relu\(number)"
      number += 1
    }
    return name
  }
}
