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
