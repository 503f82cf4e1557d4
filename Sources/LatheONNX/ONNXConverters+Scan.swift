import Foundation
import LatheTensor

/// Range, CumProd, Hardmax, LpPool, BitShift and GridSample (ONNXConverters+GridSample.swift). Range and BitShift compute integers (positions,
/// bit masks) that the engine's fp32 would round past 2^24, so they fold at load, exactly, and a
/// run-time input is refused; CumProd and Hardmax become `ONNXScanOp` and fold on constants;
/// LpPool becomes `ONNXLpPool`.
/// GridSample becomes `ONNXGridSample`.
extension ONNXConverters {
  /// Every operator `scan` converts; `supported` lists them too.
  static let scanOps: Set<String> = ["Range", "CumProd", "Hardmax", "LpPool", "BitShift", "GridSample"]

  static func scan(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "Range":
      let computed = [try n.runtime(0), try n.runtime(1), try n.runtime(2)]
      if computed.contains(where: { $0 != nil }) {
        n.define(0, try n.emit(ONNXShapeDependentOp(.range), inputs: [0, 1, 2]))
      } else {
        n.define(0, .constant(try range(n)))
      }
    case "BitShift": n.define(0, .constant(try bitShift(n)))
    case "LpPool": try lpPool(n)
    case "GridSample": try gridSample(n)
    case "CumProd", "Hardmax":
      let x = try n.required(0, "input")
      let rank = n.shape(x).count
      let kind: ONNXScanOp.Kind
      if n.node.opType == "CumProd" {
        let axes = try n.requiredConstant(1, "axis").ints
        guard axes.count == 1, let axis = ONNXShapes.axis(axes[0], rank: rank) else {
          throw NodeError("axis \(axes) is not one axis of rank \(rank)")
        }
        let a = n.attributes
        kind = .cumProd(axis: axis, exclusive: try a.int("exclusive", 0) != 0, reverse: try a.int("reverse", 0) != 0)
      } else {
        // Before opset 13 Hardmax took the input as a matrix split at axis (default 1).
        let coerced = n.opset < 13
        let axis = try n.attributes.int("axis", coerced ? 1 : -1)
        guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
          throw NodeError("axis \(axis) is out of range for rank \(rank)")
        }
        kind = .hardmax(axis: resolved, coerced: coerced)
      }
      let layer = ONNXScanOp(kind)
      if let c = x.constant {
        try GraphImporter.checkShapes(layer, [c.shape])
        var context = ForwardContext.inference
        let y = layer.forward([Variable(c.floats)], context: &context).value
        n.define(0, .constant(ONNXConstant(y, elementType: .float).cast(to: c.elementType)))
      } else {
        n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
      }
    default: throw NodeError("operator is not supported")
    }
  }

  /// Range: start, start + delta, … short of limit, in start's element type. Integers are
  /// computed as integers; floats in Double, then rounded once to fp32.
  static func range(_ n: NodeConversion) throws(NodeError) -> ONNXConstant {
    let (start, limit, delta) = (
      try n.requiredConstant(0, "start"), try n.requiredConstant(1, "limit"), try n.requiredConstant(2, "delta")
    )
    guard start.count == 1, limit.count == 1, delta.count == 1 else {
      throw NodeError("start, limit and delta are scalars, not \(start.shape), \(limit.shape), \(delta.shape)")
    }
    let cap = ShapeRules.maximumElements
    if !start.isFloatingPoint {
      let (s, l, d) = (start.ints[0], limit.ints[0], delta.ints[0])
      guard d != 0 else { throw NodeError("delta is 0: the range never reaches its limit") }
      // ONNX's count, max(ceil((limit − start) / delta), 0), in integers.
      let span = l - s
      let count = max(0, d > 0 ? (span + d - 1).floorDivided(by: d) : (-span - d - 1).floorDivided(by: -d))
      guard count <= cap else { throw NodeError("the range holds \(count) values, more than \(cap)") }
      return ONNXConstant(shape: [count], ints: (0..<count).map { s + $0 * d }, elementType: start.elementType)
    }
    let (s, l, d) = (
      Double(start.floats.scalars[0]), Double(limit.floats.scalars[0]), Double(delta.floats.scalars[0])
    )
    guard d != 0, d.isFinite, s.isFinite, l.isFinite else {
      throw NodeError("start \(s), limit \(l), delta \(d): the range is not finite")
    }
    let count = max(0, ((l - s) / d).rounded(.up))
    guard count <= Double(cap) else { throw NodeError("the range holds \(count) values, more than \(cap)") }
    let values = (0..<Int(count)).map { Float(s + Double($0) * d) }
    return ONNXConstant(Tensor(shape: [values.count], scalars: values), elementType: .float).cast(
      to: start.elementType)
  }

  /// BitShift on unsigned integers (and, as the reference implementation allows, signed ones):
  /// bits shifted past the type's width are lost, a shift by the width or more (or a negative
  /// one) gives 0, or −1 for a negative value shifted right.
  static func bitShift(_ n: NodeConversion) throws(NodeError) -> ONNXConstant {
    let (x, y) = (try n.requiredConstant(0, "X"), try n.requiredConstant(1, "Y"))
    let direction = try n.attributes.string("direction", "")
    guard direction == "LEFT" || direction == "RIGHT" else {
      throw NodeError("direction \"\(direction)\" is not LEFT or RIGHT")
    }
    guard let width = integerWidths[x.elementType] else {
      throw NodeError("BitShift reads integers, not \(x.elementType)")
    }
    guard let shape = broadcastShape(x.shape, y.shape) else {
      throw NodeError("shapes \(x.shape) and \(y.shape) do not broadcast")
    }
    let signed = [.int8, .int16, .int32, .int64].contains(x.elementType)
    let (values, shifts) = (x.ints, y.ints)
    let (ix, iy) = (IndexMap.expand(input: x.shape, output: shape), IndexMap.expand(input: y.shape, output: shape))
    let shifted = ix.indices.map { k -> Int in
      let (value, by) = (values[ix[k]], shifts[iy[k]])
      guard by >= 0, by < width else { return direction == "RIGHT" && signed && value < 0 ? -1 : 0 }
      if direction == "RIGHT" {
        // Signed values shift arithmetically; unsigned 64-bit ones are held as their bit pattern.
        return signed || width < 64 ? value >> by : Int(bitPattern: UInt(bitPattern: value) >> UInt(by))
      }
      let bits = UInt(bitPattern: value) << UInt(by)
      guard width < 64 else { return Int(bitPattern: bits) }
      let kept = bits & ((1 << UInt(width)) - 1)
      // A signed result reads its top bit as the sign.
      return signed && kept >> UInt(width - 1) == 1 ? Int(kept) - (1 << width) : Int(kept)
    }
    return ONNXConstant(shape: shape, ints: shifted, elementType: x.elementType)
  }

  static let integerWidths: [Onnx_TensorProto.DataType: Int] = [
    .uint8: 8, .int8: 8, .uint16: 16, .int16: 16, .uint32: 32, .int32: 32, .uint64: 64, .int64: 64,
  ]

  /// LpPool: MaxPool's window attributes (auto_pad, ceil_mode and dilations included) and p.
  static func lpPool(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "X")
    let rank = n.shape(x).count
    guard rank >= 3 else { throw NodeError("input \(n.shape(x)) has no spatial axis") }
    guard let kernel = try n.attributes.ints("kernel_shape"), kernel.count == rank - 2 else {
      throw NodeError("kernel_shape should have \(rank - 2) values")
    }
    let p = try n.attributes.int("p", 2)
    guard p > 0 else { throw NodeError("p is \(p); LpPool needs a positive p") }
    var window = try self.window(n, kernel: kernel, input: n.shape(x))
    window.ceilMode = try n.attributes.int("ceil_mode", 0) != 0
    n.define(0, try n.emit(ONNXLpPool(p: p, window: window), [x], hints: [n.hint(0)]))
  }
}

extension Int {
  /// Division rounding toward negative infinity (Swift's `/` rounds toward zero).
  fileprivate func floorDivided(by d: Int) -> Int {
    let q = self / d
    return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
  }
}
