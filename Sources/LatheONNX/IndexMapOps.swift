import Foundation
import LatheTensor

// Movement ops as one differentiable primitive: each output element copies one input element
// (or a fill value). Slice with steps, Gather, Pad (constant, edge, reflect), Expand and the
// zero-stuffing of ConvTranspose are all index maps; their gradient scatters back through the
// same map, so every one of them trains without its own backward.

extension Variable {
  /// out.flat[i] = self.flat[map[i]], or `fill` where map[i] < 0; the output has `shape`.
  func gathered(_ map: [Int], shape: [Int], fill: Float = 0) -> Variable {
    let x = value.contiguous()
    let y = x.withUnsafeBufferPointer { src in
      Tensor<Float>(shape: shape) { dst in
        for i in 0..<map.count {
          let j = map[i]
          dst[i] = j >= 0 ? src[j] : fill
        }
      }
    }
    let inputShape = self.shape
    return Variable(y, parents: [self]) { g in
      let gc = g.contiguous()
      let gx = gc.withUnsafeBufferPointer { gp in
        Tensor<Float>(shape: inputShape) { dst in
          dst.initialize(repeating: 0)
          for i in 0..<map.count where map[i] >= 0 { dst[map[i]] += gp[i] }
        }
      }
      return [gx]
    }
  }

  /// An elementwise function with its derivative, given as f'(x, y) for y = f(x).
  func elementwise(_ f: (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Variable {
    let y = value.mapFloat(f)
    return Variable(y, parents: [self]) { g in
      [g.zipWith(self.value.zipWith(y, derivative), *)]
    }
  }
}

/// Builds index maps over row-major shapes.
enum IndexMap {
  /// For every output coordinate (row-major), the flat input index `source` returns.
  static func build(_ outShape: [Int], _ source: ([Int]) -> Int) -> [Int] {
    let count = outShape.reduce(1, *)
    guard count > 0 else { return [] }
    var map = [Int](repeating: 0, count: count)
    var coordinate = [Int](repeating: 0, count: outShape.count)
    for i in 0..<count {
      map[i] = source(coordinate)
      var axis = outShape.count - 1
      while axis >= 0 {
        coordinate[axis] += 1
        if coordinate[axis] < outShape[axis] { break }
        coordinate[axis] = 0
        axis -= 1
      }
    }
    return map
  }

  /// Affine map: input coordinate d = start[d] + out[d] * step[d].
  static func strided(input: [Int], output: [Int], starts: [Int], steps: [Int]) -> [Int] {
    let strides = Tensor<Float>.rowMajorStrides(input)
    return build(output) { c in
      var flat = 0
      for d in 0..<c.count { flat += (starts[d] + c[d] * steps[d]) * strides[d] }
      return flat
    }
  }

  /// Broadcast `input` to `output` (numpy rules; input rank may be smaller).
  static func expand(input: [Int], output: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: output.count - input.count) + input
    let strides = Tensor<Float>.rowMajorStrides(padded)
    return build(output) { c in
      var flat = 0
      for d in 0..<c.count where padded[d] != 1 { flat += c[d] * strides[d] }
      return flat
    }
  }
}
