import Foundation
import LatheTensor

extension Variable {
  /// Max pooling over [N, C, spatial...] for any number of spatial axes; the gradient goes to
  /// the element that won each window (the first one on ties).
  func maxPool(_ window: WindowND) -> Variable {
    let (y, winners) = maxPoolWinners(window)
    let inputShape = shape
    return Variable(y, parents: [self]) { g in
      let gc = g.contiguous()
      let gx = gc.withUnsafeBufferPointer { gp in
        Tensor<Float>(shape: inputShape) { dx in
          dx.initialize(repeating: 0)
          for i in 0..<winners.count where winners[i] >= 0 { dx[winners[i]] += gp[i] }
        }
      }
      return [gx]
    }
  }

  /// The pooled maxima and, per output, the flat input index that held it (-1 for a window
  /// wholly in the padding, whose value is then 0).
  func maxPoolWinners(_ window: WindowND) -> (values: Tensor<Float>, winners: [Int]) {
    let (n, c) = (shape[0], shape[1])
    let sizes = Array(shape.dropFirst(2))
    let outputs = window.outputSizes(sizes)
    let offsets = window.kernel.reduce(1, *)
    let (map, _) = window.patches(batch: n, channels: c, sizes: sizes)
    let count = map.count / max(offsets, 1)
    var winners = [Int](repeating: -1, count: count)
    let x = value.contiguous()
    let y = x.withUnsafeBufferPointer { src in
      Tensor<Float>(shape: [n, c] + outputs) { dst in
        for i in 0..<count {
          var best = -Float.infinity
          var winner = -1
          for k in 0..<offsets {
            let j = map[i * offsets + k]
            if j >= 0 && (winner < 0 || src[j] > best) {
              best = src[j]
              winner = j
            }
          }
          dst[i] = winner >= 0 ? best : 0
          winners[i] = winner
        }
      }
    }
    return (y, winners)
  }

  /// Average pooling over [N, C, spatial...]: each window's sum over its elements inside the
  /// input, divided by their count, or with `countIncludePad` by the count of positions within
  /// the padded input.
  func averagePool(_ window: WindowND, countIncludePad: Bool) -> Variable {
    let (n, c) = (shape[0], shape[1])
    let sizes = Array(shape.dropFirst(2))
    let outputs = window.outputSizes(sizes)
    let (positions, offsets) = (outputs.reduce(1, *), window.kernel.reduce(1, *))
    let (map, inside) = window.patches(batch: n, channels: c, sizes: sizes)
    let counts = (0..<positions).map { p in
      (0..<offsets).reduce(Float(0)) { total, k in
        let i = p * offsets + k
        return total + ((countIncludePad ? inside[i] : map[i] >= 0) ? 1 : 0)
      }
    }
    let divisor = Tensor<Float>(shape: [1, 1, positions], scalars: counts.map { 1 / max($0, 1) })
    let sums = gathered(map, shape: [n, c, positions, offsets]).sum(axes: [3])
    return (sums * Variable(divisor)).reshaped([n, c] + outputs)
  }
}

/// ONNX pooling on any number of spatial axes: MaxPool (its values, or its Indices output) and
/// AveragePool. Imports use the engine's Pool2d for 1-D and 2-D windows; this layer takes the
/// rest (3-D pools, the Indices output).
public final class ONNXPool: Layer {
  public enum Kind: String, Sendable { case max, average, indices }
  public let kind: Kind
  let window: WindowND
  public let countIncludePad: Bool
  /// For the indices: 0 numbers spatial positions row-major, 1 column-major (ONNX storage_order).
  public let storageOrder: Int

  init(_ kind: Kind, window: WindowND, countIncludePad: Bool = false, storageOrder: Int = 0) {
    self.kind = kind
    self.window = window
    self.countIncludePad = countIncludePad
    self.storageOrder = storageOrder
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.Pool",
      attributes: [
        "kind": .string(kind.rawValue), "kernel": .ints(window.kernel), "stride": .ints(window.stride),
        "pads": .ints(window.pads), "dilation": .ints(window.dilation), "ceil_mode": .bool(window.ceilMode),
        "count_include_pad": .bool(countIncludePad), "storage_order": .int(storageOrder),
      ])
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .max: return x.maxPool(window)
    case .average: return x.averagePool(window, countIncludePad: countIncludePad)
    case .indices:
      let (values, winners) = x.maxPoolWinners(window)
      let indices = winners.map { Float(storageOrder == 0 ? $0 : columnMajor($0, x.shape)) }
      return Variable(Tensor(shape: values.shape, scalars: indices))
    }
  }

  /// A row-major flat index renumbered with the spatial axes in column-major order.
  private func columnMajor(_ index: Int, _ shape: [Int]) -> Int {
    let sizes = Array(shape.dropFirst(2))
    let plane = sizes.reduce(1, *)
    var rest = index % plane
    var coordinates = [Int](repeating: 0, count: sizes.count)
    for d in (0..<sizes.count).reversed() {
      coordinates[d] = rest % sizes[d]
      rest /= sizes[d]
    }
    var flat = 0
    for d in (0..<sizes.count).reversed() { flat = flat * sizes[d] + coordinates[d] }
    return (index / plane) * plane + flat
  }

  public func copy() -> Layer {
    ONNXPool(kind, window: window, countIncludePad: countIncludePad, storageOrder: storageOrder)
  }
}
