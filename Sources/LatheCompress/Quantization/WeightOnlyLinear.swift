import CKernels
import Foundation
import LatheTensor

/// A fully connected layer with weight-only group quantization (op `wq_linear`): weights stay
/// int8 or int4 in memory; each input row is quantized to s8 at run time with one scale, and
/// lk_wq_gemm_f32 takes integer dot products per weight group, summing groups in fp32 with
/// their scales. Made for batch 1, where reading the weights is the cost: 4 or 8 times fewer
/// bytes than fp32.
///
/// Where the integer kernel is slower than fp32 on this CPU (many rows at once, weights already
/// in cache), weight-only's speed check sets `computesInFloat`: the file still stores the
/// narrow weights, and they are dequantized once, on first use, into an fp32 product.
public final class WeightOnlyLinear: LoadedThroughPlaceholder {
  public let weights: GroupQuantizedWeights
  public let bias: Tensor<Float>?
  /// Runs the fp32 product of the dequantized weights instead of the integer kernel.
  public let computesInFloat: Bool
  /// AWQ's per-input-channel scale s (positive, [in]): the stored levels quantize W·diag(s),
  /// and the layer computes (x / s)·(W·s)ᵀ. Kept here because in a general graph nothing
  /// before the layer is known to absorb it; nil for every other method.
  public let inputScale: Tensor<Float>?
  /// 1 / inputScale, multiplied into each input row before it is quantized.
  private let inverseInputScale: [Float]?
  private let floatLayer = FloatLayerCache()

  public init(
    weights: GroupQuantizedWeights, bias: Tensor<Float>?, computesInFloat: Bool = false,
    inputScale: Tensor<Float>? = nil
  ) {
    precondition(inputScale.map { $0.count == weights.columns } ?? true, "one input scale per input")
    self.weights = weights
    self.bias = bias
    self.computesInFloat = computesInFloat
    self.inputScale = inputScale
    inverseInputScale = inputScale?.scalars.map { 1 / $0 }
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "in": .int(weights.columns), "out": .int(weights.rows), "bias": .bool(bias != nil), "bits": .int(weights.bits),
      "group_size": .int(weights.groupSize),
    ]
    if computesInFloat { attributes["compute"] = .string("fp32") }
    if inputScale != nil { attributes["input_scale"] = .bool(true) }
    return LayerSpec(op: "wq_linear", attributes: attributes)
  }

  public var kernelName: String {
    let kernel = weights.kernelBits == weights.bits ? "" : " on int\(weights.kernelBits)"
    return computesInFloat
      ? "wq int\(weights.bits) g\(weights.groupSize) as fp32 (faster here)"
      : "wq int\(weights.bits)\(kernel) g\(weights.groupSize) " + String(cString: lk_isa_name(lk_isa_current()))
  }
  /// Its input gets no gradient, but it stays allowed: fp32 layers after it still train, and
  /// fine-tuning them around a weight-only layer is a use (only int8 conversion ends training).
  public var allowsTraining: Bool { true }
  public var effectiveWeight: Tensor<Float>? { floatWeight() }

  /// The weight the layer applies to its raw input: the dequantized levels, divided by the
  /// input scale column by column where there is one.
  func floatWeight() -> Tensor<Float> {
    let w = weights.dequantized()
    guard let inverse = inverseInputScale else { return w }
    let columns = weights.columns
    return Tensor(shape: w.shape) { out in
      w.withUnsafeBufferPointer { v in
        for i in 0..<v.count { out[i] = v[i] * inverse[i % columns] }
      }
    }
  }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors + (inputScale.map { [("input_scale", .float32($0))] } ?? [])
      + (bias.map { [("bias", .float32($0))] } ?? [])
  }

  public var statistics: LayerStatistics {
    let parameters = weights.rows * weights.columns + (bias?.count ?? 0)
    let nonzeros = weights.values.filter { $0 != 0 }.count + (bias?.scalars.filter { $0 != 0 }.count ?? 0)
    let bytes = storedTensors.reduce(0) { $0 + $1.tensor.byteCount }
    return LayerStatistics(
      parameters: parameters, nonzeros: nonzeros, storedBytes: bytes,
      bitsPerParameter: Double(bytes * 8) / Double(parameters),
      storage: "int\(weights.bits) g\(weights.groupSize) weight-only\(inputScale == nil ? "" : " (AWQ scale)")")
  }

  /// Over the last axis like `Linear`: every row of the folded leading axes is quantized alone.
  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    if computesInFloat {
      let linear = floatLayer.layer {
        // The input scale folds into the dequantized weight: no division at run time.
        Linear(weight: Parameter(floatWeight()), bias: bias.map { Parameter($0) })
      }
      return GradientRecording.disabled { linear.forward(inputs, context: &context) }
    }
    return inputs[0].overLastAxis { Variable(product($0.value.contiguous())) }
  }

  /// The layer's outputs for rows x [batch, in] on its kernel, bias included (calibration
  /// searches measure what the layer will compute).
  func outputs(_ x: Tensor<Float>) -> Tensor<Float> {
    var context = ForwardContext.inference
    return GradientRecording.disabled { forward([Variable(x)], context: &context).value }
  }

  /// The weight-only product of rows x [batch, in].
  private func product(_ x: Tensor<Float>) -> Tensor<Float> {
    let batch = x.shape[0]
    let (n, k) = (weights.rows, weights.columns)
    let padded = Int(lk_wq_padded(Int32(k)))
    let groups = weights.groups
    let bits = weights.kernelBits
    let rowBytes = lk_wq_row_bytes(Int32(k), Int32(bits), Int32(weights.groupSize))
    var q = [Int8](repeating: 0, count: batch * padded)
    var rowScales = [Float](repeating: 1, count: batch)
    let scaled = inverseInputScale.map { inverse in
      Tensor<Float>(shape: x.shape) { out in
        x.withUnsafeBufferPointer { v in
          inverse.withUnsafeBufferPointer { inverse in
            for r in 0..<batch {
              let row = r * k
              for j in 0..<k { out[row + j] = v[row + j] * inverse[j] }
            }
          }
        }
      }
    }
    (scaled ?? x).withUnsafeBufferPointer {
      lk_wq_quantize_rows($0.baseAddress!, Int32(batch), Int32(k), &q, &rowScales)
    }
    let y = Tensor<Float>(shape: [batch, n]) { out in
      weights.scales.withUnsafeBufferPointer { scales in
        weights.rowOffsets.withUnsafeBufferPointer { offsets in
          withOptionalPointer(bias) { biasPointer in
            q.withUnsafeBufferPointer { a in
              rowScales.withUnsafeBufferPointer { aScale in
                let small = batch * n * k < Parallel.smallGEMMWork
                // A batch splits by rows of the input; a single row splits the outputs instead.
                let split = batch > 1 ? batch : n
                let workers = small ? 1 : min(Parallel.coreCount, split)
                let per = (split + workers - 1) / workers
                Parallel.forEach(workers) { w in
                  let start = w * per
                  let count = min(per, split - start)
                  guard count > 0 else { return }
                  if batch > 1 {
                    lk_wq_gemm_f32(
                      Int32(count), Int32(n), Int32(k), Int32(bits), Int32(weights.groupSize),
                      a.baseAddress! + start * padded, aScale.baseAddress! + start, weights.packed, scales.baseAddress!,
                      offsets.baseAddress!, biasPointer, out.baseAddress! + start * n, Int32(n))
                  } else {
                    lk_wq_gemm_f32(
                      1, Int32(count), Int32(k), Int32(bits), Int32(weights.groupSize), a.baseAddress!,
                      aScale.baseAddress!, weights.packed + start * rowBytes, scales.baseAddress! + start * groups,
                      offsets.baseAddress! + start, biasPointer.map { $0 + start }, out.baseAddress! + start, Int32(n))
                  }
                }
              }
            }
          }
        }
      }
    }
    return y
  }

  public func copy() -> Layer {
    WeightOnlyLinear(weights: weights, bias: bias, computesInFloat: computesInFloat, inputScale: inputScale)
  }

  /// The same weights on the other kernel.
  public func computing(inFloat: Bool) -> WeightOnlyLinear {
    WeightOnlyLinear(weights: weights, bias: bias, computesInFloat: inFloat, inputScale: inputScale)
  }
}

/// The fp32 layer a weight-only layer dequantizes into, built once under a lock (forward
/// passes may run on several threads).
private final class FloatLayerCache: @unchecked Sendable {
  private let lock = NSLock()
  private var cached: Linear?

  func layer(_ make: () -> Linear) -> Linear {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return cached }
    let made = make()
    cached = made
    return made
  }
}

extension WeightOnlyLinear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: weights.columns, out: weights.rows)
  }
}
