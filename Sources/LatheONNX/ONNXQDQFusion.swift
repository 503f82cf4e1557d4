import Foundation
import LatheCompress
import LatheTensor

/// Where a folded weight came from: a DequantizeLinear of 8-bit integer levels, with one scale
/// for all or one per index of `axis`.
struct Int8WeightOrigin {
  /// The initializer that holds the levels, e.g. `fc1.weight_quantized`.
  var initializer: String
  var scales: [Float]
}

/// QDQ files (Lathe's own int8 exports, ONNX Runtime's `quantize_static`, NNCF's) describe an int8
/// layer as QuantizeLinear → DequantizeLinear on the activation, DequantizeLinear of int8 levels
/// as the weight, then the fp32 Gemm, MatMul or Conv. Run as written, that is an fp32 layer with
/// float weights (four times the file's bytes) between two rounding layers: slower than the int8
/// model it describes. After the graph is converted, `fuseQDQ` finds each such pattern and runs it
/// as the int8 layer it is: `QuantizedLinear` or `QuantizedConv2d` on the value before the
/// QuantizeLinear, with the file's activation scale and zero point and its weight levels and
/// scales. The result is the same arithmetic (ONNX Runtime's QDQ kernels fuse it the same way);
/// a pattern that does not fit the int8 layers exactly (other zero points, grouped convolutions,
/// levels of -128) stays as written.
extension GraphImporter {
  /// Called after each ONNX node is converted: a Gemm, MatMul or Conv whose weight is a
  /// dequantized 8-bit constant marks the Linear or Conv2d it became as a candidate.
  func noteInt8Weight(of node: Onnx_NodeProto, addedFrom first: Int) {
    guard ["Gemm", "MatMul", "Conv"].contains(node.opType), node.input.count > 1,
      let origin = int8Weights[node.input[1]]
    else { return }
    for k in first..<nodes.count where nodes[k].layer is Linear || nodes[k].layer is Conv2d {
      int8Candidates[nodes[k].name] = origin
    }
  }

  /// Turns every candidate whose input is a QuantizeLinear → DequantizeLinear pair into an int8
  /// layer, folds a ReLU that only it feeds, names it after its weight, and drops the pairs no
  /// other node reads. `outputs` are the graph's output values, renamed along.
  func fuseQDQ(outputs: inout [(name: String, value: String)]) {
    guard !int8Candidates.isEmpty else { return }
    var fused: [String] = []
    for i in nodes.indices {
      guard let origin = int8Candidates[nodes[i].name], let (source, input) = fakeQuantizedInput(of: nodes[i]),
        let layer = int8Layer(nodes[i].layer, origin: origin, input: input)
      else { continue }
      nodes[i].layer = layer
      nodes[i].inputs[0] = source
      fused.append(nodes[i].name)
    }
    guard !fused.isEmpty else { return }
    var readers = readerCounts(outputs)
    for name in fused { foldReLU(after: name, readers: &readers, outputs: &outputs) }
    removeUnread(outputs)
  }

  /// The value a Linear or Conv2d reads through a QuantizeLinear → DequantizeLinear pair with one
  /// scale and the same parameters on both, and those parameters as uint8 activations.
  private func fakeQuantizedInput(of node: Node) -> (String, InputQuantization)? {
    // DynamicQuantizeLinear → DequantizeLinear: the int8 layers' dynamic activations, uint8
    // from each batch's own range, as ONNX defines DynamicQuantizeLinear.
    if let dqName = node.inputs.first, let source = dynamicallyQuantized[dqName] {
      return (source, .dynamic(symmetric: false))
    }
    guard let dqName = node.inputs.first, let dqIndex = nodeIndex[dqName],
      let dq = nodes[dqIndex].layer as? ONNXQuantization, dq.direction == .dequantize,
      let qIndex = nodes[dqIndex].inputs.first.flatMap({ nodeIndex[$0] }),
      let q = nodes[qIndex].layer as? ONNXQuantization, q.direction == .quantize,
      q.blockSize == 0, dq.blockSize == 0, q.scale.value.count == 1, dq.scale.value.count == 1,
      q.scale.value.scalars == dq.scale.value.scalars, q.zeroPoint.value.scalars == dq.zeroPoint.value.scalars,
      q.range == dq.range, let scale = q.scale.value.scalars.first, scale > 0, scale.isFinite,
      let zero = q.zeroPoint.value.scalars.first
    else { return nil }
    // int8 activations are uint8 ones shifted by 128: the same rounding, clamping and values.
    let shift: Int
    switch q.range {
    case 0...255: shift = 0
    case -128...127: shift = 128
    default: return nil
    }
    let zeroPoint = Int(zero) + shift
    guard (0...255).contains(zeroPoint) else { return nil }
    return (nodes[qIndex].inputs[0], .fixed(QuantizationParameters(scale: scale, zeroPoint: Int32(zeroPoint))))
  }

  /// The int8 form of a Linear or Conv2d whose weight is levels × per-row scales, or nil when
  /// it is not exactly that (a weight the scales do not divide into integers in -127...127).
  private func int8Layer(_ layer: Layer, origin: Int8WeightOrigin, input: InputQuantization) -> Layer? {
    switch layer {
    case let linear as Linear:
      guard let weights = levels(linear.weight.value, origin.scales) else { return nil }
      return QuantizedLinear(weights: weights, bias: linear.bias?.value, input: input, relu: false)
    case let conv as Conv2d:
      let shape = conv.weight.shape
      let depthwise = conv.groups > 1 && shape[1] == 1 && shape[0] == conv.groups
      guard conv.groups == 1 || depthwise, let weights = levels(conv.weight.value, origin.scales) else { return nil }
      return QuantizedConv2d(
        weights: weights, bias: conv.bias?.value, input: input, relu: false, inChannels: shape[1],
        kernelSize: Array(shape[2...]), stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
        groups: conv.groups)
    default:
      return nil
    }
  }

  /// `weight` [rows, ...] divided by one scale per row (or one for all) back into its integer
  /// levels; nil unless every quotient is an integer in -127...127 (the int8 kernels' range).
  private func levels(_ weight: Tensor<Float>, _ scales: [Float]) -> QuantizedWeights? {
    let rows = weight.shape[0]
    guard rows > 0, scales.count == 1 || scales.count == rows, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
      return nil
    }
    let columns = weight.count / rows
    let rowScales = scales.count == rows ? scales : Array(repeating: scales[0], count: rows)
    let w = weight.contiguous().scalars
    var values = [Int8](repeating: 0, count: w.count)
    for r in 0..<rows {
      for c in 0..<columns {
        let level = w[r * columns + c] / rowScales[r]
        let rounded = level.rounded()
        // level × scale then ÷ scale is within a few ulps of the level it was.
        guard abs(level - rounded) <= 1e-3 * max(1, abs(rounded)), abs(rounded) <= 127 else { return nil }
        values[r * columns + c] = Int8(rounded)
      }
    }
    let granularity: QuantizationGranularity = Set(rowScales).count == 1 ? .perTensor : .perChannel
    return QuantizedWeights(values: values, rows: rows, columns: columns, scales: rowScales, granularity: granularity)
  }

  private func readerCounts(_ outputs: [(name: String, value: String)]) -> [String: Int] {
    var readers: [String: Int] = [:]
    for node in nodes { for input in node.inputs { readers[input, default: 0] += 1 } }
    for output in outputs { readers[output.value, default: 0] += 1 }
    return readers
  }

  /// A ReLU that reads only the fused layer becomes the layer's own (`relu: true`, as Lathe's
  /// int8 layers fold it); the fused node takes the ReLU's place, then its weight's name.
  private func foldReLU(
    after name: String, readers: inout [String: Int], outputs: inout [(name: String, value: String)]
  ) {
    guard let index = nodeIndex[name] else { return }
    var layer = nodes[index].layer
    var finalName = name
    if readers[name] == 1, let reluIndex = nodes.firstIndex(where: { $0.inputs == [name] }),
      let relu = nodes[reluIndex].layer as? Function, relu.kind == .relu
    {
      switch layer {
      case let linear as QuantizedLinear:
        layer = QuantizedLinear(weights: linear.weights, bias: linear.bias, input: linear.input, relu: true)
      case let conv as QuantizedConv2d:
        layer = QuantizedConv2d(
          weights: conv.weights, bias: conv.bias, input: conv.input, relu: true, inChannels: conv.inChannels,
          kernelSize: conv.kernelSize, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
          groups: conv.groups)
      default: break
      }
      if (layer as? ReLUFolding)?.relu == true {
        finalName = nodes[reluIndex].name
        nodes[reluIndex] = Node(finalName, layer, inputs: nodes[index].inputs)
        nodes[index].inputs = []
        readers[name] = 0
        reindex()
      }
    }
    if let origin = int8Candidates[name], let stem = weightStem(origin.initializer), !usedNames.contains(stem) {
      rename(finalName, to: stem, outputs: &outputs)
    }
  }

  /// `fc1.weight_quantized` → `fc1` (the names PyTorch's weights get from Lathe's exporter and
  /// ONNX Runtime's quantizer); nil for other names, which keep their node's name.
  func weightStem(_ initializer: String) -> String? {
    guard initializer.hasSuffix("_quantized") else { return nil }
    let weight = String(initializer.dropLast("_quantized".count))
    guard let suffix = [".weight", "_weight"].first(where: weight.hasSuffix) else { return nil }
    let clean = sanitize(String(weight.dropLast(suffix.count)))
    return clean.isEmpty ? nil : clean
  }

  private func rename(_ old: String, to new: String, outputs: inout [(name: String, value: String)]) {
    guard let index = nodeIndex[old] else { return }
    nodes[index].name = new
    for k in nodes.indices { nodes[k].inputs = nodes[k].inputs.map { $0 == old ? new : $0 } }
    outputs = outputs.map { ($0.name, $0.value == old ? new : $0.value) }
    usedNames.insert(new)
    reindex()
  }

  /// Drops nodes nothing reads (the QuantizeLinear and DequantizeLinear pairs fused away, the
  /// ReLU's old producer), repeating until none is left: a pair feeds only itself.
  private func removeUnread(_ outputs: [(name: String, value: String)]) {
    while true {
      let readers = readerCounts(outputs)
      let unread = Set(
        nodes.filter { node in
          readers[node.name, default: 0] == 0
            && (node.layer is ONNXQuantization || node.layer is ONNXDynamicQuantization
              || node.layer is QuantizedLinear || node.layer is QuantizedConv2d
              || dynamicallyQuantized[node.name] != nil)
        }.map(\.name))
      guard !unread.isEmpty else { return }
      nodes.removeAll { unread.contains($0.name) }
      reindex()
    }
  }

  private func reindex() {
    nodeIndex = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.name, $0) })
  }
}
