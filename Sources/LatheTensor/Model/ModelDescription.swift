/// A model's architecture as plain data: what a model file stores in its header so that the
/// graph can be rebuilt before its tensors are loaded.
public struct ModelDescription: Codable, Equatable, Sendable {
  public struct NodeDescription: Codable, Equatable, Sendable {
    public var name: String
    public var op: String
    public var inputs: [String]
    public var attributes: [String: AttributeValue]
  }

  /// Bumped when the description changes incompatibly.
  public static let currentVersion = 1

  public var version: Int
  public var architecture: String
  public var inputShape: [Int]
  public var classCount: Int
  public var nodes: [NodeDescription]
  /// Absent (nil) for a model of one fixed-size input and one output, so such files read the
  /// same as before these existed.
  public var symbolicAxes: [Int]?
  public var extraInputs: [ModelInput]?
  public var extraOutputs: [String]?

  enum CodingKeys: String, CodingKey {
    case version, architecture, nodes
    case inputShape = "input_shape"
    case classCount = "class_count"
    case symbolicAxes = "symbolic_axes"
    case extraInputs = "extra_inputs"
    case extraOutputs = "extra_outputs"
  }

  public init(_ model: Model) {
    version = Self.currentVersion
    architecture = model.architecture
    inputShape = model.inputShape
    classCount = model.classCount
    nodes = NodeList.describe(model.nodes)
    symbolicAxes = model.symbolicAxes.isEmpty ? nil : model.symbolicAxes
    extraInputs = model.extraInputs.isEmpty ? nil : model.extraInputs
    extraOutputs = model.extraOutputs.isEmpty ? nil : model.extraOutputs
  }

  /// The model this describes, with zero-filled parameters. `builders` are asked first, for
  /// ops defined outside LatheTensor.
  public func makeModel(metadata: [String: String] = [:], builders: [LayerBuilding] = []) throws(ModelError) -> Model {
    let layers = try NodeList.make(nodes, builders: builders)
    let model = try Model(
      architecture: architecture, inputShape: inputShape, classCount: classCount, nodes: layers, metadata: metadata,
      extraInputs: extraInputs ?? [])
    model.symbolicAxes = symbolicAxes ?? []
    let names = Set(layers.map(\.name))
    for output in extraOutputs ?? [] where !names.contains(output) {
      throw .unknownInput(node: "output", input: output)
    }
    model.extraOutputs = extraOutputs ?? []
    return model
  }
}

extension Model {
  /// Every tensor the model writes to a file, by full name ("fc1.weight").
  public var storedTensors: [(name: String, tensor: AnyTensor)] { NodeList.storedTensors(nodes) }

  /// Restores every layer from a file's tensors (full names), checking that each layer finds
  /// what it needs with the right type, shape and finite values, and that nothing is left over.
  public func restore(from tensors: [String: AnyTensor]) throws(ModelError) {
    let (restored, unused) = try NodeList.restore(nodes, from: tensors)
    for (old, new) in zip(nodes, restored) where old.layer !== new.layer {
      replaceLayer(named: new.name, with: new.layer)
    }
    if let extra = unused.sorted().first { throw .unexpectedParameter(extra) }
  }

  /// Loads fp32 `tensors` (by full name) into this model's parameters.
  public func loadState(_ tensors: [String: Tensor<Float>]) throws(ModelError) {
    try restore(from: tensors.mapValues { .float32($0) })
  }

  /// Weights, non-zeros and stored bytes over all layers.
  public var statistics: LayerStatistics {
    let all = nodes.map(\.layer.statistics)
    let parameters = all.reduce(0) { $0 + $1.parameters }
    let bytes = all.reduce(0) { $0 + $1.storedBytes }
    return LayerStatistics(
      parameters: parameters, nonzeros: all.reduce(0) { $0 + $1.nonzeros }, storedBytes: bytes,
      bitsPerParameter: parameters == 0 ? 0 : Double(bytes * 8) / Double(parameters),
      storage: Set(all.map(\.storage)).subtracting(["-"]).sorted().joined(separator: ", "))
  }
}
