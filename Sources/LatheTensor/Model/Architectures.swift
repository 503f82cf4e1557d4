/// The built-in architectures, by the names `lathe train --model` accepts.
public enum Architecture: String, CaseIterable, Sendable {
  /// 784-300-100-10 MLP (LeCun et al. 1998), the Deep Compression paper's first model.
  case lenet300100 = "lenet-300-100"
  /// conv 6@5x5 (pad 2), max-pool, conv 16@5x5, max-pool, 120, 84, 10.
  case lenet5 = "lenet-5"
  /// 64-64-10 MLP for the 8x8 digits.
  case digitsMLP = "digits-mlp"
  /// Two 3x3 conv blocks with batch norm, then 64 and 10 units, for the 8x8 digits.
  case digitsCNN = "digits-cnn"
  /// A byte-level GPT (`TransformerConfig.charGPT`): 4 blocks of width 128 over 128 positions,
  /// trained on text (`TextCorpus`); `classCount` is its vocabulary (256 bytes).
  case charGPT = "char-gpt"

  /// The shape of one example the architecture reads.
  public var inputShape: [Int] {
    switch self {
    case .lenet300100, .lenet5: return [1, 28, 28]
    case .digitsMLP, .digitsCNN: return [1, 8, 8]
    case .charGPT: return [TransformerConfig.charGPT().positions]
    }
  }

  public static func named(_ name: String) throws(ModelError) -> Architecture {
    guard let a = Architecture(rawValue: name) else {
      throw .unknownArchitecture(name, known: allCases.map(\.rawValue))
    }
    return a
  }

  /// A freshly initialised model, reproducible from `seed`.
  public func build(classCount: Int = 10, seed: UInt64 = 0) -> Model {
    if self == .charGPT { return Transformer.decoder(.charGPT(vocabulary: classCount), seed: seed) }
    var g = SeededGenerator(seed: seed)
    let sequence: [(String, Layer)]
    switch self {
    case .charGPT: preconditionFailure("built above")
    case .lenet300100:
      sequence = [
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc1", Linear(inputs: 784, outputs: 300, generator: &g)), ("relu1", Function(.relu)),
        ("fc2", Linear(inputs: 300, outputs: 100, generator: &g)), ("relu2", Function(.relu)),
        ("fc3", Linear(inputs: 100, outputs: classCount, generator: &g)),
      ]
    case .lenet5:
      let pool = WindowGeometry(kernel: [2, 2], stride: [2, 2])
      sequence = [
        ("conv1", Conv2d(inChannels: 1, outChannels: 6, kernel: 5, padding: 2, generator: &g)),
        ("relu1", Function(.relu)), ("pool1", Pool2d(.max, geometry: pool)),
        ("conv2", Conv2d(inChannels: 6, outChannels: 16, kernel: 5, generator: &g)),
        ("relu2", Function(.relu)), ("pool2", Pool2d(.max, geometry: pool)),
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc1", Linear(inputs: 400, outputs: 120, generator: &g)), ("relu3", Function(.relu)),
        ("fc2", Linear(inputs: 120, outputs: 84, generator: &g)), ("relu4", Function(.relu)),
        ("fc3", Linear(inputs: 84, outputs: classCount, generator: &g)),
      ]
    case .digitsMLP:
      sequence = [
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc1", Linear(inputs: 64, outputs: 64, generator: &g)), ("relu1", Function(.relu)),
        ("fc2", Linear(inputs: 64, outputs: classCount, generator: &g)),
      ]
    case .digitsCNN:
      let pool = WindowGeometry(kernel: [2, 2], stride: [2, 2])
      sequence = [
        ("conv1", Conv2d(inChannels: 1, outChannels: 16, kernel: 3, padding: 1, generator: &g)),
        ("bn1", BatchNorm(channels: 16)), ("relu1", Function(.relu)), ("pool1", Pool2d(.max, geometry: pool)),
        ("conv2", Conv2d(inChannels: 16, outChannels: 32, kernel: 3, padding: 1, generator: &g)),
        ("bn2", BatchNorm(channels: 32)), ("relu2", Function(.relu)), ("pool2", Pool2d(.max, geometry: pool)),
        ("flatten", Function(.flatten(startAxis: 1))),
        ("fc1", Linear(inputs: 128, outputs: 64, generator: &g)), ("relu3", Function(.relu)),
        ("dropout", Function(.dropout(rate: 0.2))),
        ("fc2", Linear(inputs: 64, outputs: classCount, generator: &g)),
      ]
    }
    // The sequences above are well-formed by construction.
    return try! Model(architecture: rawValue, inputShape: inputShape, classCount: classCount, sequence: sequence)
  }
}

extension Architecture {
  /// A multilayer perceptron with the given hidden widths (ReLU between layers), for students
  /// and baselines: `mlp(hidden: [30])` is 784-30-10 on MNIST.
  public static func mlp(hidden: [Int], inputShape: [Int], classCount: Int, seed: UInt64 = 0) -> Model {
    var g = SeededGenerator(seed: seed)
    var sequence: [(String, Layer)] = [("flatten", Function(.flatten(startAxis: 1)))]
    var width = inputShape.reduce(1, *)
    for (i, h) in hidden.enumerated() {
      sequence.append(("fc\(i + 1)", Linear(inputs: width, outputs: h, generator: &g)))
      sequence.append(("relu\(i + 1)", Function(.relu)))
      width = h
    }
    sequence.append(("fc\(hidden.count + 1)", Linear(inputs: width, outputs: classCount, generator: &g)))
    let name = "mlp-" + ([inputShape.reduce(1, *)] + hidden + [classCount]).map(String.init).joined(separator: "-")
    return try! Model(architecture: name, inputShape: inputShape, classCount: classCount, sequence: sequence)
  }
}

extension Model {
  /// Fresh He-initialised weights (zero biases, unit batch norm) in every layer, from `seed`:
  /// the same architecture trained from scratch, for baselines.
  public func reinitialized(seed: UInt64) -> Model {
    let result = copy()
    var g = SeededGenerator(seed: seed)
    for node in result.nodes {
      for (name, parameter) in node.layer.parameters {
        parameter.mask = nil
        parameter.codebook = nil
        switch name {
        case "weight" where parameter.shape.count >= 2 && !(node.layer is BatchNorm):
          let fanIn = parameter.value.count / parameter.shape[0]
          let bound = (6 / Float(fanIn)).squareRoot()
          parameter.value = .uniform(parameter.shape, low: -bound, high: bound, generator: &g)
        case "weight", "running_var":
          parameter.value = Tensor(repeating: 1, shape: parameter.shape)
        default:
          parameter.value = .zeros(parameter.shape)
        }
      }
    }
    return result
  }
}
