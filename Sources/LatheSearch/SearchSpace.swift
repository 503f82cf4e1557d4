import Foundation

/// The searched dimensions of a pipeline, in file order: the ranges written in its steps.
public struct SearchSpace: Sendable, Equatable {
  public var dimensions: [SearchDimension]

  public init(_ dimensions: [SearchDimension]) { self.dimensions = dimensions }

  public var unitDimensions: [UnitDimension] { dimensions.map(\.unitKind) }
  public var count: Int { dimensions.count }

  /// The concrete values at a point of [0, 1]^d, by dimension name.
  public func values(at unit: [Double]) -> [String: JournalValue] {
    Dictionary(uniqueKeysWithValues: zip(dimensions, unit).map { ($0.name, $0.value(at: $1)) })
  }

  /// The point of [0, 1]^d at which every dimension takes its value in `values`, or nil when
  /// one is missing or outside its range (a trial another tool wrote for another space).
  public func unit(of values: [String: JournalValue]) -> [Double]? {
    var point: [Double] = []
    for dimension in dimensions {
      guard let value = values[dimension.name], let u = dimension.unit(of: value) else { return nil }
      point.append(u)
    }
    return point
  }

  /// A short fingerprint of the dimensions and their ranges: a journal written for another
  /// space cannot be resumed by this one.
  public var fingerprint: String {
    dimensions.map { d -> String in
      switch d.kind {
      case .float(let l, let h, let log): return "\(d.name):f\(l),\(h)\(log ? "L" : "")"
      case .int(let l, let h, let log): return "\(d.name):i\(l),\(h)\(log ? "L" : "")"
      case .choice(let v): return "\(d.name):c\(v.map(\.description).joined(separator: "|"))"
      }
    }.joined(separator: ";")
  }
}
