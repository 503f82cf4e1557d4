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

  enum CodingKeys: String, CodingKey {
    case version, architecture, nodes
    case inputShape = "input_shape"
    case classCount = "class_count"
  }

  public init(_ model: Model) {
    version = Self.currentVersion
    architecture = model.architecture
    inputShape = model.inputShape
    classCount = model.classCount
    nodes = model.nodes.map {
      NodeDescription(name: $0.name, op: $0.layer.spec.op, inputs: $0.inputs, attributes: $0.layer.spec.attributes)
    }
  }

  /// The model this describes, with zero-filled parameters.
  public func makeModel(metadata: [String: String] = [:]) throws(ModelError) -> Model {
    var layers: [Node] = []
    for node in nodes {
      layers.append(
        Node(node.name, try LayerFactory.make(LayerSpec(op: node.op, attributes: node.attributes)), inputs: node.inputs)
      )
    }
    return try Model(
      architecture: architecture, inputShape: inputShape, classCount: classCount, nodes: layers, metadata: metadata)
  }
}

extension Model {
  /// Loads `tensors` (by full name) into this model's parameters, checking that every
  /// parameter is present with its expected shape and finite values, and nothing is left over.
  public func loadState(_ tensors: [String: Tensor<Float>]) throws(ModelError) {
    var unused = Set(tensors.keys)
    for (name, parameter) in namedParameters {
      guard let tensor = tensors[name] else { throw .missingParameter(name) }
      guard tensor.shape == parameter.shape else {
        throw .shapeMismatch(parameter: name, expected: parameter.shape, found: tensor.shape)
      }
      guard tensor.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else { throw .nonFinite(parameter: name) }
      parameter.value = tensor
      unused.remove(name)
    }
    if let extra = unused.sorted().first { throw .unexpectedParameter(extra) }
  }
}
