import CKernels
import Foundation
import LatheTensor

/// The running range of the values flowing into a layer during quantization-aware training:
/// an exponential moving average of each batch's minimum and maximum, so one odd batch cannot
/// swing the u8 grid the int8 model will use.
public final class RangeObserver {
  public private(set) var low: Float
  public private(set) var high: Float
  /// Weight of the old range per batch (0.99: about the last hundred batches count).
  public let decay: Float

  public init(low: Float, high: Float, decay: Float) {
    self.low = low
    self.high = high
    self.decay = decay
  }

  public func observe(_ x: Tensor<Float>) {
    guard x.count > 0 else { return }
    var lo: Float = 0
    var hi: Float = 0
    x.contiguous().withUnsafeBufferPointer { lk_minmax_f32($0.baseAddress!, $0.count, &lo, &hi) }
    low = decay * low + (1 - decay) * lo
    high = decay * high + (1 - decay) * hi
  }

  /// The u8 parameters the int8 layer will quantize its input with (asymmetric, 0 exact).
  public var parameters: QuantizationParameters { .unsigned(low: low, high: high, symmetric: false) }

  func copy() -> RangeObserver { RangeObserver(low: low, high: high, decay: decay) }
}

/// A Linear or Conv2d during quantization-aware training: its input goes through u8 fake
/// quantization with the observed range and its weight through per-channel s8 fake
/// quantization with scale max|w| / 127 taken from the current weight, exactly the grids
/// `Int8Conversion` will use, so training sees the int8 model's rounding. Gradients pass by the
/// straight-through estimator. Shares the wrapped layer's parameters, which the optimizer trains.
public final class FakeQuantizedLayer: Layer {
  /// The fp32 Linear or Conv2d (groups 1) being trained.
  public let wrapped: Layer
  public let observer: RangeObserver

  public init(wrapping layer: Layer, observer: RangeObserver) {
    precondition(layer is Linear || (layer as? Conv2d)?.groups == 1, "fake quantization wraps Linear or Conv2d")
    wrapped = layer
    self.observer = observer
  }

  /// Never saved: the technique converts the layer to int8 before the model leaves it.
  public var spec: LayerSpec { LayerSpec(op: "fake_quant_" + wrapped.spec.op, attributes: wrapped.spec.attributes) }
  public var parameters: [(name: String, parameter: Parameter)] { wrapped.parameters }
  public var kernelName: String { "fake-quant " + wrapped.kernelName }

  private var weight: Parameter { (wrapped as? Linear)?.weight ?? (wrapped as! Conv2d).weight }
  private var bias: Parameter? { (wrapped as? Linear)?.bias ?? (wrapped as? Conv2d)?.bias }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    if context.isTraining { observer.observe(inputs[0].value) }
    let input = observer.parameters
    let x = inputs[0].fakeQuantized(scales: [input.scale], zeroPoints: [input.zeroPoint], qmin: 0, qmax: 255)
    let w = weight.variable()
    let scales = Self.channelScales(w.value)
    let wq = w.fakeQuantized(
      scales: scales, zeroPoints: [Int32](repeating: 0, count: scales.count), qmin: -127, qmax: 127)
    if wrapped is Linear { return x.linearOverLastAxis(weight: wq, bias: bias?.variable()) }
    let conv = wrapped as! Conv2d
    return x.conv2d(
      weight: wq, bias: bias?.variable(), stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
      groups: 1)
  }

  /// Per-output-channel symmetric s8 scales, as `QuantizedWeights(quantizing:)` computes them.
  static func channelScales(_ weight: Tensor<Float>) -> [Float] {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    let w = weight.contiguous().scalars
    return (0..<rows).map { r in
      QuantizationParameters.signed(bound: w[(r * columns)..<((r + 1) * columns)].reduce(0) { max($0, abs($1)) })
        .scale
    }
  }

  public func copy() -> Layer { FakeQuantizedLayer(wrapping: wrapped.copy(), observer: observer.copy()) }
}

extension FakeQuantizedLayer: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard let wrapped = wrapped as? ShapeChecking else { throw ShapeError("wraps a layer without shape rules") }
    return try wrapped.outputShape(for: inputs)
  }
}
