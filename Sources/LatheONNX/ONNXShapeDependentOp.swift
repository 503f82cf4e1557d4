import Foundation
import LatheTensor

/// Operators whose shape, bounds or count is a tensor computed at run time: the graph's
/// symbolic sizes (an OCR line's width, a sentence's length) read by `Shape` and carried
/// through shape arithmetic. Shapes travel as fp32 vectors of exact integers. Each kind turns
/// its run-time operands into the constant form of the same operator (`ONNXOp`) and runs that,
/// so the data input's gradient is the one the constant form already has.
public final class ONNXShapeDependentOp: Layer {
  public enum Kind: Equatable, Sendable {
    /// The input's dimensions `start..<end` (negative: from the end, as ONNX's Shape).
    case shapeOf(start: Int, end: Int?)
    /// inputs: data, shape
    case reshape(allowZero: Bool)
    /// inputs: data, shape
    case expand
    /// inputs: shape; every element `value`
    case constantOfShape(value: Float)
    /// inputs: data, starts, ends; `axes` and `steps` constant (empty: all axes, steps of 1)
    case slice(axes: [Int], steps: [Int])
    /// inputs: start, limit, delta (scalars)
    case range
    /// inputs: a, b; integer division, truncating toward zero as ONNX's int Div does
    case integerDivide
    /// inputs: x; a cast to an integer type, truncating toward zero
    case truncate
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXShapeDependentOp(kind) }

  public var kernelName: String { "shape" }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    // The importer checked these operands at probe sizes only: the sizes a graph is fed make
    // other shapes, which may not fit (a reshape to a product that differs).
    switch kind {
    case .reshape, .expand, .constantOfShape, .slice, .range:
      do {
        try check(inputs.map(\.value))
      } catch {
        RunFailure.record(name, error.reason)
        return Variable(.zeros(x.shape))
      }
    case .shapeOf, .integerDivide, .truncate: break
    }
    switch kind {
    case .shapeOf(let start, let end):
      let dims = ONNXShapeDependentOp.part(x.shape, start: start, end: end)
      return Variable(Tensor(shape: [dims.count], scalars: dims.map { Float($0) }))
    case .reshape(let allowZero):
      return ONNXOp(.reshape(shape: ints(inputs[1]), allowZero: allowZero)).forward([x], context: &context)
    case .expand:
      return ONNXOp(.expand(shape: ints(inputs[1]))).forward([x], context: &context)
    case .constantOfShape(let value):
      return Variable(Tensor(repeating: value, shape: ints(x)))
    case .slice(let axes, let steps):
      let starts = ints(inputs[1])
      let ends = ints(inputs[2])
      let rank = x.shape.count
      let axes = axes.isEmpty ? Array(0..<starts.count) : axes.map { ($0 + rank) % rank }
      let steps = steps.isEmpty ? Array(repeating: 1, count: starts.count) : steps
      return ONNXOp(.slice(starts: starts, ends: ends, axes: axes, steps: steps)).forward([x], context: &context)
    case .range:
      let (start, limit, delta) = (x.value.scalars[0], inputs[1].value.scalars[0], inputs[2].value.scalars[0])
      let count = ONNXShapeDependentOp.rangeCount(start: start, limit: limit, delta: delta)
      return Variable(Tensor(shape: [count], scalars: (0..<count).map { start + Float($0) * delta }))
    case .integerDivide:
      // Integers travel as exact floats; a quotient rounded toward zero is ONNX's int division.
      return Variable((x.value / inputs[1].value).mapFloat { $0.isFinite ? $0.rounded(.towardZero) : 0 })
    case .truncate:
      return Variable(x.value.mapFloat { $0.rounded(.towardZero) })
    }
  }

  /// Checks that inputs of these values can run, before the importer's probe runs the layer
  /// (the constant form it builds trusts its shapes).
  func check(_ inputs: [Tensor<Float>]) throws(ShapeError) {
    guard let x = inputs.first else { throw ShapeError("takes at least one input") }
    func values(_ k: Int) throws(ShapeError) -> [Int] {
      guard k < inputs.count else { throw ShapeError("input \(k) is missing") }
      return ints(Variable(inputs[k]))
    }
    switch kind {
    case .reshape(let allowZero):
      do {
        _ = try ONNXOp.reshapeShape(try values(1), allowZero: allowZero, of: x.shape)
      } catch {
        throw ShapeError("cannot reshape \(x.shape) to \(try values(1)): \(error.reason)")
      }
    case .expand:
      let target = try values(1)
      guard broadcastShape(x.shape, target) != nil else { throw ShapeError("cannot expand \(x.shape) to \(target)") }
    case .constantOfShape:
      let dims = ints(Variable(x))
      guard dims.allSatisfy({ $0 >= 0 }), ONNXShapes.product(dims) != nil else {
        throw ShapeError("shape \(dims) is negative or too large")
      }
    case .slice(let axes, let steps):
      let (starts, ends) = (try values(1), try values(2))
      let rank = x.shape.count
      guard starts.count == ends.count, axes.isEmpty || axes.count == starts.count,
        steps.isEmpty || steps.count == starts.count, steps.allSatisfy({ $0 != 0 }),
        axes.allSatisfy({ $0 >= -rank && $0 < rank }), axes.isEmpty ? starts.count <= rank : true
      else { throw ShapeError("starts \(starts), ends \(ends), axes \(axes), steps \(steps) do not fit \(x.shape)") }
    case .range:
      guard inputs.count == 3, inputs.allSatisfy({ $0.count == 1 }) else {
        throw ShapeError("start, limit and delta should be scalars")
      }
    case .integerDivide:
      guard inputs.count == 2, broadcastShape(x.shape, inputs[1].shape) != nil else {
        throw ShapeError("operands do not broadcast")
      }
    case .shapeOf, .truncate: break
    }
  }

  /// The ONNX operator this layer runs, for messages.
  private var name: String {
    switch kind {
    case .shapeOf: return "Shape"
    case .reshape: return "Reshape"
    case .expand: return "Expand"
    case .constantOfShape: return "ConstantOfShape"
    case .slice: return "Slice"
    case .range: return "Range"
    case .integerDivide: return "Div"
    case .truncate: return "Cast"
    }
  }

  private func ints(_ v: Variable) -> [Int] {
    v.value.contiguous().scalars.map { $0.isFinite ? Int(max(min($0, 2e9), -2e9)) : 0 }
  }

  static func part(_ shape: [Int], start: Int, end: Int?) -> [Int] {
    let rank = shape.count
    let clamp = { (v: Int) in min(max(v < 0 ? v + rank : v, 0), rank) }
    let (s, e) = (clamp(start), clamp(end ?? rank))
    return s < e ? Array(shape[s..<e]) : []
  }

  /// ONNX's Range count: max(ceil((limit - start) / delta), 0).
  static func rangeCount(start: Float, limit: Float, delta: Float) -> Int {
    guard delta != 0 else { return 0 }
    let count = ((limit - start) / delta).rounded(.up)
    return count.isFinite ? max(Int(min(count, Float(ShapeRules.maximumElements))), 0) : 0
  }

  public var spec: LayerSpec {
    switch kind {
    case .shapeOf(let start, let end):
      var attributes: [String: AttributeValue] = ["kind": .string("shape"), "start": .int(start)]
      if let end { attributes["end"] = .int(end) }
      return LayerSpec(op: "onnx.ShapeDependent", attributes: attributes)
    case .reshape(let allowZero):
      return LayerSpec(
        op: "onnx.ShapeDependent", attributes: ["kind": .string("reshape"), "allowzero": .bool(allowZero)])
    case .expand: return LayerSpec(op: "onnx.ShapeDependent", attributes: ["kind": .string("expand")])
    case .constantOfShape(let value):
      return LayerSpec(
        op: "onnx.ShapeDependent", attributes: ["kind": .string("constantOfShape"), "value": .float(value)])
    case .slice(let axes, let steps):
      return LayerSpec(
        op: "onnx.ShapeDependent", attributes: ["kind": .string("slice"), "axes": .ints(axes), "steps": .ints(steps)])
    case .range: return LayerSpec(op: "onnx.ShapeDependent", attributes: ["kind": .string("range")])
    case .integerDivide: return LayerSpec(op: "onnx.ShapeDependent", attributes: ["kind": .string("integerDivide")])
    case .truncate: return LayerSpec(op: "onnx.ShapeDependent", attributes: ["kind": .string("truncate")])
    }
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.ShapeDependent" else { return nil }
    let kind: Kind
    switch try s.string("kind", default: "") {
    case "shape": kind = .shapeOf(start: try s.int("start"), end: s.attributes["end"] == nil ? nil : try s.int("end"))
    case "reshape": kind = .reshape(allowZero: try s.bool("allowzero", default: false))
    case "expand": kind = .expand
    case "constantOfShape": kind = .constantOfShape(value: try s.float("value", default: 0))
    case "slice": kind = .slice(axes: try s.ints("axes", default: []), steps: try s.ints("steps", default: []))
    case "range": kind = .range
    case "integerDivide": kind = .integerDivide
    case "truncate": kind = .truncate
    default:
      throw .badAttribute(
        op: s.op, key: "kind",
        expected: "shape, reshape, expand, constantOfShape, slice, range, integerDivide or truncate")
    }
    self.init(kind)
  }
}
