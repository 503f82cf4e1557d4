import CKernels
import Foundation
import LatheTensor

/// An int8 fully connected layer: the input is quantized to u8, multiplied with s8 weights in
/// int32 by the VNNI/AVX2 kernel, and scaled back to fp32 with the bias (and a folded ReLU).
public final class QuantizedLinear: ReLUFolding, LoadedThroughPlaceholder {
  public let weights: QuantizedWeights
  public let bias: Tensor<Float>?
  public let input: InputQuantization
  public let relu: Bool

  public init(weights: QuantizedWeights, bias: Tensor<Float>?, input: InputQuantization, relu: Bool) {
    self.weights = weights
    self.bias = bias
    self.input = input
    self.relu = relu
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "in": .int(weights.columns), "out": .int(weights.rows), "bias": .bool(bias != nil), "relu": .bool(relu),
      "granularity": .string(weights.granularity.rawValue),
    ]
    attributes.merge(input.attributes) { a, _ in a }
    return LayerSpec(op: "qlinear", attributes: attributes)
  }

  public var kernelName: String { "int8 " + String(cString: lk_isa_name(lk_isa_current())) }
  /// Int8 layers end a model's training (see `Layer.allowsTraining`).
  public var allowsTraining: Bool { false }
  public var effectiveWeight: Tensor<Float>? { weights.dequantized(shape: [weights.rows, weights.columns]) }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(shape: [weights.rows, weights.columns]) + input.storedTensors
      + (bias.map { [("bias", .float32($0))] } ?? [])
  }

  public var statistics: LayerStatistics {
    quantizedStatistics(weights, bias: bias, stored: storedTensors, input: input)
  }

  /// Over the last axis like `Linear`; the input's one scale covers every row whatever its rank.
  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].overLastAxis { Variable(product($0.value.contiguous())) }
  }

  /// The int8 product of rows x [batch, in].
  private func product(_ x: Tensor<Float>) -> Tensor<Float> {
    let batch = x.shape[0]
    let (n, k) = (weights.rows, weights.columns)
    let parameters = input.parameters(for: x)
    let y = Tensor<Float>(shape: [batch, n]) { out in
      weights.scales.withUnsafeBufferPointer { scales in
        withOptionalPointer(bias) { biasPointer in
          var stage = lk_qoutput(
            a_zero_point: parameters.zeroPoint, a_scale: parameters.scale, w_scale: scales.baseAddress!,
            bias: biasPointer, relu: relu ? 1 : 0, out_scale: 1, out_zero_point: 0)
          x.withUnsafeBufferPointer { src in
            // Rows of the batch go to different cores; each worker quantizes its own rows (still
            // in cache for the product) and owns its kernel call.
            let workers = batch * n * k >= Parallel.smallGEMMWork ? min(Parallel.coreCount, batch) : 1
            let per = (batch + workers - 1) / workers
            Parallel.forEach(workers) { w in
              let start = w * per
              let count = min(per, batch - start)
              guard count > 0 else { return }
              var q = [UInt8](repeating: 0, count: count * k)
              q.withUnsafeMutableBufferPointer { a in
                lk_quantize_u8(
                  src.baseAddress! + start * k, count * k, parameters.scale, parameters.zeroPoint, a.baseAddress!)
                lk_qgemm_f32(
                  Int32(count), Int32(n), Int32(k), a.baseAddress!, Int32(k), weights.packed, &stage,
                  out.baseAddress! + start * n, Int32(n))
              }
            }
          }
        }
      }
    }
    return y
  }

  public func copy() -> Layer { QuantizedLinear(weights: weights, bias: bias, input: input, relu: relu) }
}

/// An int8 convolution, groups 1 or depthwise (groups = channels, one output per channel):
/// each image is quantized to u8, then unfolded and multiplied by the int8 kernel
/// (lk_qconv2d_image, images spread over the cores), or convolved per channel by
/// lk_qdwconv2d_image (channels spread over the cores).
public final class QuantizedConv2d: ReLUFolding, LoadedThroughPlaceholder {
  public let weights: QuantizedWeights
  public let bias: Tensor<Float>?
  public let input: InputQuantization
  public let relu: Bool
  public let kernelSize: [Int]
  public let inChannels: Int
  public let stride: [Int]
  public let padding: [Int]
  public let dilation: [Int]
  /// 1, or the number of channels for a depthwise layer (`inChannels` is then 1: per group).
  public let groups: Int

  public init(
    weights: QuantizedWeights, bias: Tensor<Float>?, input: InputQuantization, relu: Bool, inChannels: Int,
    kernelSize: [Int], stride: [Int], padding: [Int], dilation: [Int], groups: Int = 1
  ) {
    precondition(groups == 1 || (inChannels == 1 && weights.rows == groups), "groups 1 or depthwise only")
    self.weights = weights
    self.bias = bias
    self.input = input
    self.relu = relu
    self.inChannels = inChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
  }

  var isDepthwise: Bool { groups > 1 }

  var weightShape: [Int] { [weights.rows, inChannels, kernelSize[0], kernelSize[1]] }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "in": .int(inChannels * groups), "out": .int(weights.rows), "kernel": .ints(kernelSize),
      "stride": .ints(stride), "padding": .ints(padding), "dilation": .ints(dilation), "groups": .int(groups),
      "bias": .bool(bias != nil),
      "relu": .bool(relu), "granularity": .string(weights.granularity.rawValue),
    ]
    attributes.merge(input.attributes) { a, _ in a }
    return LayerSpec(op: "qconv2d", attributes: attributes)
  }

  /// lk_qconv2d_method's choice for the usual case (stride 1: columns; wide windows over tiny
  /// outputs also fall back to im2row).
  public var kernelName: String {
    let method = isDepthwise ? "int8 depthwise+" : (stride == [1, 1] ? "int8 columns+" : "int8 im2row+")
    return method + String(cString: lk_isa_name(lk_isa_current()))
  }
  public var allowsTraining: Bool { false }
  public var effectiveWeight: Tensor<Float>? { weights.dequantized(shape: weightShape) }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(shape: weightShape) + input.storedTensors + (bias.map { [("bias", .float32($0))] } ?? [])
  }

  public var statistics: LayerStatistics {
    quantizedStatistics(weights, bias: bias, stored: storedTensors, input: input)
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0].value.contiguous()
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let geometry = WindowGeometry(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    let (oh, ow) = geometry.outputSize(height: h, width: w)
    let window = lk_window(
      batch: 1, channels: Int32(c), height: Int32(h), width: Int32(w), kernel_h: Int32(kernelSize[0]),
      kernel_w: Int32(kernelSize[1]), stride_h: Int32(stride[0]), stride_w: Int32(stride[1]),
      pad_top: Int32(padding[0]),
      pad_left: Int32(padding[1]), dilation_h: Int32(dilation[0]), dilation_w: Int32(dilation[1]), out_h: Int32(oh),
      out_w: Int32(ow), pad_bottom: Int32(padding[2]), pad_right: Int32(padding[3]))
    let parameters = input.parameters(for: x)
    if isDepthwise { return Variable(depthwise(x, window: window, parameters: parameters)) }
    let outChannels = weights.rows
    let imageSize = c * h * w
    let y = Tensor<Float>(shape: [n, outChannels, oh, ow]) { out in
      weights.scales.withUnsafeBufferPointer { scales in
        withOptionalPointer(bias) { biasPointer in
          x.withUnsafeBufferPointer { src in
            let workers = min(Parallel.coreCount, n)
            Parallel.forEach(workers) { worker in
              var win = window
              var stage = lk_qoutput(
                a_zero_point: parameters.zeroPoint, a_scale: parameters.scale, w_scale: scales.baseAddress!,
                bias: biasPointer, relu: relu ? 1 : 0, out_scale: 1, out_zero_point: 0)
              // Each image is quantized just before its convolution, by the worker that runs it:
              // the bytes are still in cache, and quantizing is spread over the cores too.
              let scratchSize = max(lk_qconv2d_scratch_size(&win), 64)
              let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize + imageSize, alignment: 64)
              defer { scratch.deallocate() }
              let image = (scratch + scratchSize).assumingMemoryBound(to: UInt8.self)
              for index in Swift.stride(from: worker, to: n, by: workers) {
                lk_quantize_u8(
                  src.baseAddress! + index * imageSize, imageSize, parameters.scale, parameters.zeroPoint, image)
                lk_qconv2d_image(
                  &win, image, weights.packed, Int32(outChannels), &stage,
                  out.baseAddress! + index * outChannels * oh * ow, nil, scratch)
              }
            }
          }
        }
      }
    }
    return Variable(y)
  }

  /// Depthwise: the (image, channel) planes are split over the cores as the float layer splits
  /// them; each worker quantizes its own planes (still in cache for the kernel) and convolves them.
  private func depthwise(_ x: Tensor<Float>, window: lk_window, parameters: QuantizationParameters) -> Tensor<Float> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (planeIn, planeOut) = (h * w, Int(window.out_h * window.out_w))
    let planes = n * c
    let macs = planes * planeOut * kernelSize[0] * kernelSize[1]
    // As the float depthwise layer: below this many multiply-adds a worker is not worth waking.
    let workers = max(1, min(Parallel.coreCount, planes, macs / 65_536))
    return Tensor<Float>(shape: [n, c, Int(window.out_h), Int(window.out_w)]) { out in
      weights.scales.withUnsafeBufferPointer { scales in
        weights.values.withUnsafeBufferPointer { levels in
          withOptionalPointer(bias) { biasPointer in
            x.withUnsafeBufferPointer { src in
              Parallel.forEach(workers) { worker in
                var win = window
                var stage = lk_qoutput(
                  a_zero_point: parameters.zeroPoint, a_scale: parameters.scale, w_scale: scales.baseAddress!,
                  bias: biasPointer, relu: relu ? 1 : 0, out_scale: 1, out_zero_point: 0)
                let scratchSize = lk_qdwconv2d_scratch_size(&win)
                let first = planes * worker / workers
                let end = planes * (worker + 1) / workers
                let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize + c * planeIn, alignment: 64)
                defer { scratch.deallocate() }
                let image = (scratch + scratchSize).assumingMemoryBound(to: UInt8.self)
                var plane = first
                while plane < end {
                  let (index, c0) = plane.quotientAndRemainder(dividingBy: c)
                  let c1 = min(c, c0 + (end - plane))
                  lk_quantize_u8(
                    src.baseAddress! + index * c * planeIn + c0 * planeIn, (c1 - c0) * planeIn, parameters.scale,
                    parameters.zeroPoint, image + c0 * planeIn)
                  lk_qdwconv2d_image(
                    &win, image, levels.baseAddress!, &stage, Int32(c0), Int32(c1),
                    out.baseAddress! + index * c * planeOut, scratch)
                  plane += c1 - c0
                }
              }
            }
          }
        }
      }
    }
  }

  public func copy() -> Layer {
    QuantizedConv2d(
      weights: weights, bias: bias, input: input, relu: relu, inChannels: inChannels, kernelSize: kernelSize,
      stride: stride, padding: padding, dilation: dilation, groups: groups)
  }
}

func quantizedStatistics(
  _ weights: QuantizedWeights, bias: Tensor<Float>?, stored: [(name: String, tensor: AnyTensor)],
  input: InputQuantization
) -> LayerStatistics {
  let parameters = weights.values.count + (bias?.count ?? 0)
  let nonzeros = weights.values.filter { $0 != 0 }.count + (bias?.scalars.filter { $0 != 0 }.count ?? 0)
  let bytes = stored.reduce(0) { $0 + $1.tensor.byteCount }
  let activations: String
  if case .dynamic = input { activations = "dynamic" } else { activations = "static" }
  return LayerStatistics(
    parameters: parameters, nonzeros: nonzeros, storedBytes: bytes,
    bitsPerParameter: Double(bytes * 8) / Double(parameters),
    storage: "int8 \(weights.granularity.rawValue), \(activations)")
}

extension QuantizedLinear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: weights.columns, out: weights.rows)
  }
}

extension QuantizedConv2d: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard kernelSize.count == 2, stride.count == 2, dilation.count == 2, padding.count == 2 || padding.count == 4 else {
      throw ShapeError("needs a 2-D kernel, stride, dilation and padding")
    }
    let geometry = WindowGeometry(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
    return try ShapeRules.window(inputs, geometry: geometry, channels: inChannels * groups, outputs: weights.rows)
  }
}
