import Foundation
import LatheTensor

/// A tensor known when the model loads: an initializer, a `Constant` node, or a value folded
/// from them. Floating types are kept as fp32 (the engine's type); integer and boolean types as
/// `Int`, which is exact for the int64 shape arithmetic exporters write.
struct ONNXConstant {
  var shape: [Int]
  /// The ONNX element type (TensorProto.DataType) the value had in the file.
  var elementType: Onnx_TensorProto.DataType
  private var floatValues: Tensor<Float>?
  private var intValues: [Int]?

  /// A batch size unknown until the model runs, as it appears in folded `Shape` results.
  /// Reshape turns it back into the run's batch; any other arithmetic on it is refused.
  static let batchMarker = -987_654_321

  init(_ tensor: Tensor<Float>, elementType: Onnx_TensorProto.DataType = .float) {
    shape = tensor.shape
    self.elementType = elementType
    floatValues = tensor
  }

  init(shape: [Int], ints: [Int], elementType: Onnx_TensorProto.DataType = .int64) {
    self.shape = shape
    self.elementType = elementType
    intValues = ints
  }

  var count: Int { shape.reduce(1, *) }
  var isFloatingPoint: Bool { ONNXConstant.floatingTypes.contains(elementType) }

  var floats: Tensor<Float> {
    if let floatValues { return floatValues }
    return Tensor(shape: shape, scalars: (intValues ?? []).map { Float($0) })
  }

  var ints: [Int] {
    if let intValues { return intValues }
    return (floatValues?.scalars ?? []).map { $0.isFinite ? Int(max(min($0, 9e18), -9e18)) : 0 }
  }

  static let floatingTypes: Set<Onnx_TensorProto.DataType> = [.float, .double, .float16, .bfloat16]

  /// The same values with another element type (Cast), converting between fp32 and integers.
  func cast(to type: Onnx_TensorProto.DataType) -> ONNXConstant {
    if ONNXConstant.floatingTypes.contains(type) { return ONNXConstant(floats, elementType: type) }
    if type == .bool { return ONNXConstant(shape: shape, ints: ints.map { $0 != 0 ? 1 : 0 }, elementType: type) }
    return ONNXConstant(shape: shape, ints: ints, elementType: type)
  }
}

extension Onnx_TensorProto.DataType {
  /// The name ONNX's documentation uses, for messages.
  var name: String { String(describing: self).uppercased() }
}
