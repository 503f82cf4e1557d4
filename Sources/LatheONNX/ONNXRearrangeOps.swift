import Foundation
import LatheTensor

/// DepthToSpace, SpaceToDepth and Tile: each output element copies one input element, so each
/// is an index map (IndexMapOps.swift) and trains through the map's scatter-back gradient.
public final class ONNXRearrange: Layer {
  public enum Kind: Equatable, Sendable {
    /// [N, C, H, W] -> [N, C/b², H·b, W·b]. DCR mode takes the block offset from the outer
    /// part of the channel index, CRD (`columnRowDepth`) from the inner part.
    case depthToSpace(blockSize: Int, columnRowDepth: Bool)
    /// [N, C, H, W] -> [N, C·b², H/b, W/b], the inverse of DepthToSpace in the same mode (CRD
    /// arrives with opset 28).
    case spaceToDepth(blockSize: Int, columnRowDepth: Bool)
    /// Each axis repeated `repeats[d]` times (as whole copies, not element by element).
    case tile(repeats: [Int])
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXRearrange(kind) }

  public var spec: LayerSpec {
    switch kind {
    case .depthToSpace(let b, let crd):
      return LayerSpec(
        op: "onnx.DepthToSpace", attributes: ["blocksize": .int(b), "mode": .string(crd ? "CRD" : "DCR")])
    case .spaceToDepth(let b, let crd):
      return LayerSpec(
        op: "onnx.SpaceToDepth", attributes: ["blocksize": .int(b), "mode": .string(crd ? "CRD" : "DCR")])
    case .tile(let repeats): return LayerSpec(op: "onnx.Tile", attributes: ["repeats": .ints(repeats)])
    }
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    // A graph with symbolic sizes checked the shape at probe sizes only.
    let out: [Int]
    do {
      out = try outputShape(for: [x.shape])
    } catch {
      RunFailure.record(String(spec.op.dropFirst(5)), "input \(x.shape): \(error.reason)")
      return Variable(.zeros(x.shape))
    }
    let strides = Tensor<Float>.rowMajorStrides(x.shape)
    let map: [Int]
    switch kind {
    case .depthToSpace(let b, let crd):
      let depth = out[1]
      map = IndexMap.build(out) { c in
        let (i, j) = (c[2] % b, c[3] % b)
        let channel = crd ? (c[1] * b + i) * b + j : (i * b + j) * depth + c[1]
        return c[0] * strides[0] + channel * strides[1] + (c[2] / b) * strides[2] + (c[3] / b) * strides[3]
      }
    case .spaceToDepth(let b, let crd):
      let channels = x.shape[1]
      map = IndexMap.build(out) { c in
        let (block, channel) = crd ? (c[1] % (b * b), c[1] / (b * b)) : (c[1] / channels, c[1] % channels)
        let (row, column) = (c[2] * b + block / b, c[3] * b + block % b)
        return c[0] * strides[0] + channel * strides[1] + row * strides[2] + column * strides[3]
      }
    case .tile:
      map = IndexMap.build(out) { c in
        var flat = 0
        for d in c.indices { flat += (c[d] % x.shape[d]) * strides[d] }
        return flat
      }
    }
    return x.gathered(map, shape: out)
  }

  /// Rebuilds a layer from its spec; nil for other ops.
  static func make(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    switch spec.op {
    case "onnx.DepthToSpace", "onnx.SpaceToDepth":
      let mode = try spec.string("mode", default: "DCR")
      guard mode == "DCR" || mode == "CRD" else {
        throw .badAttribute(op: spec.op, key: "mode", expected: "DCR or CRD")
      }
      let b = try spec.int("blocksize")
      return ONNXRearrange(
        spec.op == "onnx.DepthToSpace"
          ? .depthToSpace(blockSize: b, columnRowDepth: mode == "CRD")
          : .spaceToDepth(blockSize: b, columnRowDepth: mode == "CRD"))
    case "onnx.Tile": return ONNXRearrange(.tile(repeats: try spec.ints("repeats")))
    default: return nil
    }
  }
}

extension ONNXRearrange: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    let out: [Int]
    switch kind {
    case .depthToSpace(let b, _), .spaceToDepth(let b, _):
      guard x.count == 4 else { throw ShapeError("needs input [batch, channels, height, width], gets \(x)") }
      guard b > 0, b <= ONNXShapes.windowLimit else {
        throw ShapeError("blocksize \(b) is outside 1...\(ONNXShapes.windowLimit)")
      }
      if case .depthToSpace = kind {
        guard x[1] % (b * b) == 0 else { throw ShapeError("blocksize² \(b * b) does not divide the channels of \(x)") }
        out = [x[0], x[1] / (b * b), x[2] * b, x[3] * b]
      } else {
        guard x[2] % b == 0, x[3] % b == 0 else {
          throw ShapeError("blocksize \(b) does not divide \(x)'s height and width")
        }
        out = [x[0], x[1] * b * b, x[2] / b, x[3] / b]
      }
    case .tile(let repeats):
      guard repeats.count == x.count, repeats.allSatisfy({ $0 >= 0 && $0 <= ShapeRules.maximumElements }) else {
        throw ShapeError("repeats \(repeats) should be \(x.count) counts in 0...\(ShapeRules.maximumElements) for \(x)")
      }
      out = zip(x, repeats).map { $0 * $1 }
    }
    // Sizes come from a file: the product must be a tensor Lathe can hold.
    guard ONNXShapes.product(out) != nil else {
      throw ShapeError("output \(out) of \(x) holds more than \(ShapeRules.maximumElements) values")
    }
    return out
  }
}
