import Foundation
import LatheTensor
import XCTest

final class ModelTests: XCTestCase {
  func testBuiltInArchitecturesHaveTheDocumentedShapes() {
    let lenet = Architecture.lenet300100.build()
    XCTAssertEqual(lenet.parameterCount, 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10)
    XCTAssertEqual(lenet.parameter(named: "fc1.weight")?.shape, [300, 784])
    let lenet5 = Architecture.lenet5.build()
    let shapes = lenet5.outputShapes()
    XCTAssertEqual(shapes["conv1"], [1, 6, 28, 28])
    XCTAssertEqual(shapes["pool2"], [1, 16, 5, 5])
    XCTAssertEqual(shapes["fc3"], [1, 10])
    XCTAssertEqual(Architecture.digitsCNN.build().outputShapes()["fc2"], [1, 10])
    XCTAssertEqual(Architecture.digitsMLP.build().outputShapes()["fc2"], [1, 10])
  }

  /// `outputShapes` (what `inspect` and an ONNX import run) keeps an activation only until its
  /// last reader has run, not every one to the end of the pass.
  func testOutputShapesDropsEachActivationAfterItsLastReader() throws {
    let outputs = WeakOutputs()
    let nodes = (0..<8).map { i in Node("step\(i)", outputs.layer(), inputs: [i == 0 ? "input" : "step\(i - 1)"]) }
    let model = try Model(architecture: "chain", inputShape: [4], classCount: 4, nodes: nodes)
    let shapes = model.outputShapes()
    XCTAssertEqual(shapes.count, 8)
    XCTAssertEqual(shapes["step7"], [1, 4])
    // When step i runs, only its input (step i - 1's output) is still alive.
    XCTAssertEqual(outputs.mostAlive, 1)
  }

  func testSameSeedSameWeightsDifferentSeedDifferentWeights() {
    let a = Architecture.lenet5.build(seed: 3).parameter(named: "conv1.weight")!.value
    let b = Architecture.lenet5.build(seed: 3).parameter(named: "conv1.weight")!.value
    let c = Architecture.lenet5.build(seed: 4).parameter(named: "conv1.weight")!.value
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, c)
  }

  func testCopyIsIndependent() {
    let model = Architecture.digitsMLP.build()
    let copy = model.copy()
    copy.parameter(named: "fc1.weight")!.value.withUnsafeMutableBufferPointer { $0[0] = 42 }
    XCTAssertNotEqual(model.parameter(named: "fc1.weight")!.value[0, 0], 42)
    XCTAssertEqual(copy.parameter(named: "fc1.weight")!.value[0, 0], 42)
  }

  func testDescriptionRoundTripRebuildsTheSameFunction() throws {
    for architecture in Architecture.allCases {
      let model = architecture.build(seed: 5)
      let json = try JSONEncoder().encode(ModelDescription(model))
      let rebuilt = try JSONDecoder().decode(ModelDescription.self, from: json).makeModel()
      try rebuilt.loadState(
        Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value) }))
      var g = SeededGenerator(seed: 1)
      var x = Tensor<Float>.uniform([4] + model.inputShape, low: 0, high: 1, generator: &g)
      // A language model reads token ids: whole numbers inside its vocabulary of 10.
      if model.isLanguageModel { x = x.mapFloat { ($0 * 10).rounded(.down) } }
      XCTAssertEqual(model.predict(x), rebuilt.predict(x), "\(architecture)")
      XCTAssertEqual(ModelDescription(rebuilt), ModelDescription(model))
    }
  }

  func testLoadStateRejectsMissingWrongShapedExtraAndNonFiniteTensors() {
    let model = Architecture.digitsMLP.build()
    let good = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value) })
    var missing = good
    missing["fc2.bias"] = nil
    XCTAssertThrowsError(try model.loadState(missing)) {
      XCTAssertEqual($0 as? ModelError, .missingParameter("fc2.bias"))
    }
    var wrong = good
    wrong["fc1.weight"] = .zeros([64, 63])
    XCTAssertThrowsError(try model.loadState(wrong)) {
      XCTAssertEqual($0 as? ModelError, .shapeMismatch(parameter: "fc1.weight", expected: [64, 64], found: [64, 63]))
    }
    var extra = good
    extra["fc9.weight"] = .zeros([1])
    XCTAssertThrowsError(try model.loadState(extra)) {
      XCTAssertEqual($0 as? ModelError, .unexpectedParameter("fc9.weight"))
    }
    var nan = good
    nan["fc2.bias"] = Tensor(shape: [10], scalars: [Float](repeating: .nan, count: 10))
    XCTAssertThrowsError(try model.loadState(nan)) {
      XCTAssertEqual($0 as? ModelError, .nonFinite(parameter: "fc2.bias"))
    }
  }

  func testLayerFactoryRejectsBadSpecs() {
    XCTAssertThrowsError(try LayerFactory.make(LayerSpec(op: "warp"))) {
      XCTAssertEqual($0 as? ModelError, .unknownOp("warp"))
    }
    XCTAssertThrowsError(try LayerFactory.make(LayerSpec(op: "linear", attributes: ["in": .int(3)])))
    XCTAssertThrowsError(
      try LayerFactory.make(LayerSpec(op: "linear", attributes: ["in": .int(-3), "out": .int(2)])))
    XCTAssertThrowsError(
      try LayerFactory.make(
        LayerSpec(
          op: "conv2d", attributes: ["in": .int(3), "out": .int(4), "groups": .int(2), "kernel": .ints([3, 3])])))
  }

  func testGraphValidation() {
    XCTAssertThrowsError(
      try Model(architecture: "x", inputShape: [2], classCount: 2, nodes: [Node("a", Function(.relu), inputs: ["b"])])
    ) { XCTAssertEqual($0 as? ModelError, .unknownInput(node: "a", input: "b")) }
    XCTAssertThrowsError(
      try Model(
        architecture: "x", inputShape: [2], classCount: 2,
        nodes: [Node("a", Function(.relu), inputs: ["input"]), Node("a", Function(.relu), inputs: ["input"])])
    ) { XCTAssertEqual($0 as? ModelError, .duplicateNode("a")) }
  }

  func testResidualGraphAddsBranches() throws {
    // input -> relu -> (a) ; input -> tanh -> (b) ; out = a + b
    let model = try Model(
      architecture: "residual", inputShape: [3], classCount: 3,
      nodes: [
        Node("a", Function(.relu), inputs: ["input"]), Node("b", Function(.tanh), inputs: ["input"]),
        Node("sum", Function(.add), inputs: ["a", "b"]),
      ])
    let x = Tensor<Float>(shape: [1, 3], scalars: [-1, 0.5, 2])
    let y = model.predict(x).scalars
    for (i, v) in x.scalars.enumerated() { XCTAssertEqual(y[i], max(v, 0) + tanh(v), accuracy: 1e-6) }
  }
}

/// Layers that each return a new value and count, when they run, how many of the values
/// earlier ones returned are still alive.
private final class WeakOutputs {
  struct Weak { weak var value: Variable? }
  var made: [Weak] = []
  var mostAlive = 0

  final class Step: Layer {
    let owner: WeakOutputs
    init(_ owner: WeakOutputs) { self.owner = owner }
    var spec: LayerSpec { LayerSpec(op: "test.Step") }
    var parameters: [(name: String, parameter: Parameter)] { [] }
    func copy() -> Layer { Step(owner) }
    func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
      owner.mostAlive = max(owner.mostAlive, owner.made.filter { $0.value != nil }.count)
      let output = Variable(inputs[0].value.mapFloat { $0 + 1 })
      owner.made.append(Weak(value: output))
      return output
    }
  }

  func layer() -> Layer { Step(self) }
}
