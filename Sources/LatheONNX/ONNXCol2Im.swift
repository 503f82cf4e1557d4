import Foundation
import LatheTensor

/// ONNX's Col2Im: columns [N, C·∏block, L] (one per sliding block position, as im2col lays
/// them out) summed back into images [N, C, image...]; each element lands on the pixel its
/// block position, kernel offset, stride, padding and dilation point to, or nowhere when that
/// falls in the padding. The gradient gathers the image gradient back through the same map.
public final class ONNXCol2Im: Layer {
  public let imageShape: [Int]
  public let blockShape: [Int]
  public let dilations: [Int]
  /// Begin pads of every spatial axis, then end pads.
  public let pads: [Int]
  public let strides: [Int]

  public init(imageShape: [Int], blockShape: [Int], dilations: [Int], pads: [Int], strides: [Int]) {
    (self.imageShape, self.blockShape, self.dilations) = (imageShape, blockShape, dilations)
    (self.pads, self.strides) = (pads, strides)
  }

  public func copy() -> Layer {
    ONNXCol2Im(imageShape: imageShape, blockShape: blockShape, dilations: dilations, pads: pads, strides: strides)
  }

  /// Sliding block positions along each spatial axis.
  var blocks: [Int] {
    imageShape.indices.map { d in
      let span = dilations[d] * (blockShape[d] - 1) + 1
      return (imageShape[d] + pads[d] + pads[d + imageShape.count] - span) / strides[d] + 1
    }
  }

  /// For each input element (row-major over `input`), its flat output index, or -1.
  func map(_ input: [Int]) -> [Int] {
    let (kernel, positions) = (blockShape.reduce(1, *), blocks)
    let channels = input[1] / kernel
    let imageSize = imageShape.reduce(1, *)
    let imageStrides = Tensor<Float>.rowMajorStrides(imageShape)
    let kernelStrides = Tensor<Float>.rowMajorStrides(blockShape)
    let positionStrides = Tensor<Float>.rowMajorStrides(positions)
    return IndexMap.build(input) { c in
      let (image, k, l) = (c[0] * channels + c[1] / kernel, c[1] % kernel, c[2])
      var flat = image * imageSize
      for d in imageShape.indices {
        let offset = k / kernelStrides[d] % blockShape[d]
        let block = l / positionStrides[d] % positions[d]
        let at = block * strides[d] - pads[d] + offset * dilations[d]
        guard at >= 0, at < imageShape[d] else { return -1 }
        flat += at * imageStrides[d]
      }
      return flat
    }
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let shape = [x.shape[0], x.shape[1] / blockShape.reduce(1, *)] + imageShape
    let map = map(x.shape)
    let v = x.value.contiguous().scalars
    var y = [Float](repeating: 0, count: shape.reduce(1, *))
    for (i, j) in map.enumerated() where j >= 0 { y[j] += v[i] }
    return Variable(Tensor(shape: shape, scalars: y), parents: [x]) { g in
      let gv = g.contiguous().scalars
      return [Tensor(shape: x.shape, scalars: map.map { $0 >= 0 ? gv[$0] : 0 })]
    }
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.Col2Im",
      attributes: [
        "image_shape": .ints(imageShape), "block_shape": .ints(blockShape), "dilations": .ints(dilations),
        "pads": .ints(pads), "strides": .ints(strides),
      ])
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.Col2Im" else { return nil }
    self.init(
      imageShape: try s.ints("image_shape"), blockShape: try s.ints("block_shape"), dilations: try s.ints("dilations"),
      pads: try s.ints("pads"), strides: try s.ints("strides"))
  }
}

extension ONNXCol2Im: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try ONNXShapes.single(inputs)
    let d = imageShape.count
    guard d > 0, blockShape.count == d, dilations.count == d, strides.count == d, pads.count == 2 * d else {
      throw ShapeError("needs one block size, dilation and stride and two pads per image axis, \(d) axes")
    }
    // Bounded so that the block arithmetic cannot overflow on a damaged file's values.
    let limit = ShapeRules.maximumElements
    guard (imageShape + blockShape + dilations + strides).allSatisfy({ $0 > 0 && $0 <= limit }),
      pads.allSatisfy({ $0 >= 0 && $0 <= limit })
    else { throw ShapeError("image, block, dilations and strides should be positive, pads 0 or more") }
    guard let kernel = ONNXShapes.product(blockShape), shape.count == 3, shape[1] % kernel == 0 else {
      throw ShapeError("input \(shape) should be [N, C·\(blockShape.map(String.init).joined(separator: "·")), L]")
    }
    let positions = blocks
    guard positions.allSatisfy({ $0 >= 1 }), let count = ONNXShapes.product(positions), shape[2] == count else {
      throw ShapeError("input \(shape) should hold one column per block position (\(positions))")
    }
    return [shape[0], shape[1] / kernel] + imageShape
  }
}
