import Foundation
import LatheTensor

/// One setting a technique accepts, with its default and limits: what the pipeline file
/// validates against and what the workbench's step editor shows as a form field.
public struct ParameterDescriptor: Sendable {
  public enum Kind: Sendable {
    case int(ClosedRange<Int>)
    case float(ClosedRange<Double>)
    /// A float for every layer, or a map of layer name to float.
    case perLayerFloat(ClosedRange<Double>)
    /// An int for every layer, or a map of layer name to int.
    case perLayerInt(ClosedRange<Int>)
    case choice([String])
    case bool
    case text
    case list
  }

  public var key: String
  public var kind: Kind
  public var defaultValue: ParameterValue?
  public var help: String

  public init(_ key: String, _ kind: Kind, default defaultValue: ParameterValue?, help: String) {
    self.key = key
    self.kind = kind
    self.defaultValue = defaultValue
    self.help = help
  }
}

/// What a technique is called, what it does, and the settings it takes.
public struct TechniqueDescriptor: Sendable {
  public var name: String
  public var summary: String
  public var parameters: [ParameterDescriptor]
  /// Whether the technique trains, so a model that can no longer train (int8) must come after it.
  public var needsTrainableModel: Bool
  /// Whether the technique reads the train split (to calibrate or train); the runner refuses
  /// it on data without one. False for what works on the weights alone (weight-only, huffman).
  public var needsTrainData: Bool

  public init(
    name: String, summary: String, parameters: [ParameterDescriptor], needsTrainableModel: Bool = false,
    needsTrainData: Bool = true
  ) {
    self.name = name
    self.summary = summary
    self.parameters = parameters
    self.needsTrainableModel = needsTrainableModel
    self.needsTrainData = needsTrainData
  }
}
