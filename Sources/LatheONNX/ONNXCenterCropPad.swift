import Foundation
import LatheTensor

/// ONNX's CenterCropPad: each listed axis cropped or zero-padded to its size, centred (the
/// extra element of an odd difference goes at the end, as in the reference). The gradient
/// takes the kept elements back to where they came from; padding has none.
public final class ONNXCenterCropPad: Layer {
  /// Non-negative and distinct (the converter resolves negative ones).
  public let axes: [Int]
  public let sizes: [Int]

  public init(axes: [Int], sizes: [Int]) { (self.axes, self.sizes) = (axes, sizes) }

  public func copy() -> Layer { ONNXCenterCropPad(axes: axes, sizes: sizes) }

  func target(_ shape: [Int]) -> [Int] {
    var out = shape
    for (a, s) in zip(axes, sizes) { out[a] = s }
    return out
  }

  /// For each output element, the flat input index it reads, or nil for padding.
  func sources(_ shape: [Int]) -> [Int?] {
    let out = target(shape)
    // Output index o reads input o + offset: positive offsets crop, negative ones pad.
    let offsets = zip(shape, out).map { d, s in d >= s ? (d - s) / 2 : -((s - d) / 2) }
    var inStrides = [Int](repeating: 1, count: shape.count)
    for k in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * shape[k + 1] }
    let count = out.reduce(1, *)
    var result = [Int?](repeating: nil, count: count)
    for flat in 0..<count {
      var rest = flat
      var source = 0
      var inside = true
      for k in stride(from: out.count - 1, through: 0, by: -1) {
        let i = rest % out[k] + offsets[k]
        rest /= out[k]
        if i < 0 || i >= shape[k] { inside = false }
        source += i * inStrides[k]
      }
      if inside { result[flat] = source }
    }
    return result
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let v = x.value.contiguous().scalars
    let map = sources(x.shape)
    let y = map.map { $0.map { v[$0] } ?? 0 }
    let shape = x.shape
    return Variable(Tensor(shape: target(shape), scalars: y), parents: [x]) { g in
      let gs = g.contiguous().scalars
      var dx = [Float](repeating: 0, count: v.count)
      for (k, s) in map.enumerated() { if let s { dx[s] += gs[k] } }
      return [Tensor(shape: shape, scalars: dx)]
    }
  }

  public var spec: LayerSpec {
    LayerSpec(op: "onnx.CenterCropPad", attributes: ["axes": .ints(axes), "sizes": .ints(sizes)])
  }
}

extension ONNXCenterCropPad: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try ONNXShapes.single(inputs)
    guard axes.allSatisfy({ $0 >= 0 && $0 < shape.count }), sizes.allSatisfy({ $0 >= 0 }) else {
      throw ShapeError("axes \(axes) or sizes \(sizes) do not fit \(shape)")
    }
    return target(shape)
  }
}
