import Foundation

// Broadcasting arithmetic. The backward of a broadcast operand sums the gradient back down
// to the operand's own shape.

extension Variable {
  public static func + (a: Variable, b: Variable) -> Variable {
    Variable(a.value + b.value, parents: [a, b]) { g in
      [g.sumToShape(a.shape), g.sumToShape(b.shape)]
    }
  }

  public static func - (a: Variable, b: Variable) -> Variable {
    Variable(a.value - b.value, parents: [a, b]) { g in
      [g.sumToShape(a.shape), (-g).sumToShape(b.shape)]
    }
  }

  public static func * (a: Variable, b: Variable) -> Variable {
    Variable(a.value * b.value, parents: [a, b]) { g in
      [
        a.requiresGrad ? (g * b.value).sumToShape(a.shape) : nil,
        b.requiresGrad ? (g * a.value).sumToShape(b.shape) : nil,
      ]
    }
  }

  public static func / (a: Variable, b: Variable) -> Variable {
    Variable(a.value / b.value, parents: [a, b]) { g in
      [
        a.requiresGrad ? (g / b.value).sumToShape(a.shape) : nil,
        b.requiresGrad ? (-g * a.value / (b.value * b.value)).sumToShape(b.shape) : nil,
      ]
    }
  }

  public static prefix func - (a: Variable) -> Variable {
    Variable(-a.value, parents: [a]) { g in [-g] }
  }

  public static func + (a: Variable, s: Float) -> Variable {
    Variable(a.value + s, parents: [a]) { g in [g] }
  }

  public static func * (a: Variable, s: Float) -> Variable {
    Variable(a.value * s, parents: [a]) { g in [g * s] }
  }

  public func exp() -> Variable {
    let y = value.mapFloat { Foundation.exp($0) }
    return Variable(y, parents: [self]) { g in [g * y] }
  }

  public func log() -> Variable {
    Variable(value.mapFloat { Foundation.log($0) }, parents: [self]) { g in [g / self.value] }
  }

  public func sqrt() -> Variable {
    let y = value.mapFloat { $0.squareRoot() }
    return Variable(y, parents: [self]) { g in [g.zipWith(y) { $0 * 0.5 / $1 }] }
  }

  /// Each element raised to a constant power.
  public func pow(_ exponent: Float) -> Variable {
    Variable(value.mapFloat { Foundation.pow($0, exponent) }, parents: [self]) { g in
      [g * self.value.mapFloat { exponent * Foundation.pow($0, exponent - 1) }]
    }
  }
}
