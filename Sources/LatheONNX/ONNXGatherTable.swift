import Foundation
import LatheTensor

/// ONNX's Gather with indices computed at run time. With a constant table (a word or position
/// embedding) the table is the layer's trainable `weight`, so pruning, quantization and
/// fine-tuning see it; otherwise the data is the first input. Indices are exact floats;
/// negative ones count from the end, and ones out of range are clamped to it (ONNX leaves them
/// undefined; a wrong token id must not bring the process down). The gradient scatters back
/// into the rows that were read.
public final class ONNXGatherTable: Layer {
  public let weight: Parameter?
  public let axis: Int

  /// A layer reading rows of a constant table along `axis`; its one input is the indices.
  public init(table: Tensor<Float>, axis: Int) {
    weight = Parameter(table)
    self.axis = axis
  }

  /// A layer gathering from its first input; its second input is the indices.
  public init(axis: Int) {
    weight = nil
    self.axis = axis
  }

  private init(weight: Parameter?, axis: Int) {
    self.weight = weight
    self.axis = axis
  }

  public func copy() -> Layer {
    ONNXGatherTable(weight: weight.map { Parameter($0.value, isTrainable: $0.isTrainable) }, axis: axis)
  }

  public var parameters: [(name: String, parameter: Parameter)] { weight.map { [("weight", $0)] } ?? [] }

  public var kernelName: String { "gather" }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let data = weight?.variable() ?? inputs[0]
    let indices = inputs[weight == nil ? 1 : 0].value
    let dim = data.shape[axis]
    let positions = indices.contiguous().scalars.map { value -> Int in
      let i = value.isFinite ? Int(max(min(value, 2e9), -2e9)) : 0
      return min(max(i < 0 ? i + dim : i, 0), max(dim - 1, 0))
    }
    return ONNXOp.gather(data, axis: axis, indices: positions, indicesShape: indices.shape)
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = ["axis": .int(axis)]
    if let weight { attributes["shape"] = .ints(weight.shape) }
    return LayerSpec(op: "onnx.GatherTable", attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.GatherTable" else { return nil }
    let axis = try s.int("axis")
    if s.attributes["shape"] != nil {
      let shape = try s.ints("shape")
      guard axis >= 0, axis < shape.count, shape.allSatisfy({ $0 >= 0 }) else {
        throw .badAttribute(op: s.op, key: "axis/shape", expected: "an axis of the table's shape")
      }
      self.init(weight: Parameter(.zeros(shape)), axis: axis)
    } else {
      self.init(weight: nil, axis: axis)
    }
  }
}

extension ONNXGatherTable: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let data = weight?.shape ?? inputs.first ?? []
    guard let indices = inputs.last, inputs.count == (weight == nil ? 2 : 1) else {
      throw ShapeError("takes \(weight == nil ? "data and indices" : "indices"), got \(inputs.count) inputs")
    }
    guard axis >= 0, axis < data.count else { throw ShapeError("axis \(axis) is out of range for \(data)") }
    guard data[axis] > 0 else { throw ShapeError("gathers from an empty axis \(axis) of \(data)") }
    return Array(data[..<axis]) + indices + Array(data[(axis + 1)...])
  }
}
