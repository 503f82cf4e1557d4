import LatheCompress
import LatheSearch

extension JournalValue {
  /// A pipeline file's value as the journal stores it (maps as their text).
  public init(_ value: ParameterValue) {
    switch value {
    case .int(let v): self = .int(v)
    case .float(let v): self = .float(v)
    case .bool(let v): self = .bool(v)
    case .string(let v): self = .string(v)
    case .list(let items): self = .list(items.map(JournalValue.init))
    case .map: self = .string(value.description)
    }
  }
}

extension ParameterValue {
  /// A sampled value as a pipeline step's setting.
  public init(_ value: JournalValue) {
    switch value {
    case .int(let v): self = .int(v)
    case .float(let v): self = .float(v)
    case .bool(let v): self = .bool(v)
    case .string(let v): self = .string(v)
    case .list(let items): self = .list(items.map(ParameterValue.init))
    }
  }
}
