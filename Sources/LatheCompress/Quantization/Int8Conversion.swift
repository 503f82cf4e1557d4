import Foundation
import LatheTensor

/// Turns one fp32 Linear or Conv2d node (groups 1 or depthwise) into its int8 layer:
/// post-training quantization and the end of quantization-aware training share it, so both
/// save the same file format.
enum Int8Conversion {
  /// Replaces node `name` of `model` by the int8 form of `layer` (that node's Linear or
  /// groups-1 or depthwise Conv2d, or the one a fake-quant wrapper holds). A lone ReLU reading the node runs
  /// in the kernel's output stage instead and leaves the graph. Returns false for other layers.
  @discardableResult
  static func convert(
    _ model: Model, node name: String, layer: Layer, input: InputQuantization, granularity: QuantizationGranularity
  ) -> Bool {
    let readers = model.readers(of: name)
    let foldRelu: Bool
    if readers.count == 1, let f = readers[0].layer as? Function, f.kind == .relu {
      foldRelu = true
    } else {
      foldRelu = false
    }
    guard let converted = int8Layer(of: layer, input: input, granularity: granularity, relu: foldRelu) else {
      return false
    }
    model.replaceLayer(named: name, with: converted)
    if foldRelu { model.bypassNode(named: readers[0].name) }
    return true
  }

  /// The int8 form of a Linear or a groups-1 or depthwise Conv2d; nil for any other layer.
  static func int8Layer(
    of layer: Layer, input: InputQuantization, granularity: QuantizationGranularity, relu: Bool
  ) -> Layer? {
    switch layer {
    case let linear as Linear:
      return QuantizedLinear(
        weights: QuantizedWeights(quantizing: linear.weight.value, granularity: granularity),
        bias: linear.bias?.value, input: input, relu: relu)
    case let conv as Conv2d where conv.groups == 1 || isDepthwise(conv):
      return QuantizedConv2d(
        weights: QuantizedWeights(quantizing: conv.weight.value, granularity: granularity), bias: conv.bias?.value,
        input: input, relu: relu, inChannels: conv.weight.shape[1], kernelSize: Array(conv.weight.shape[2...]),
        stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups)
    default:
      return nil
    }
  }

  /// One input and one output channel per group (MobileNet's depthwise layers).
  static func isDepthwise(_ conv: Conv2d) -> Bool {
    conv.groups > 1 && conv.weight.shape[1] == 1 && conv.weight.shape[0] == conv.groups
  }
}
