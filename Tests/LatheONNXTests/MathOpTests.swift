import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// The math operators (ONNXMathOp): values against hand-computed and PyTorch reference values,
/// the ONNX forms that reach them (attribute and input axes, one-input variadics, Gelu's tanh
/// form), and a model holding them saved, reloaded and exported again.
final class MathOpTests: XCTestCase {
  func apply(_ kind: ONNXMathOp.Kind, _ inputs: Tensor<Float>...) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXMathOp(kind).forward(inputs.map { Variable($0) }, context: &context).value
  }

  func vector(_ values: [Float]) -> Tensor<Float> { Tensor(shape: [values.count], scalars: values) }

  func unary(_ name: String, _ values: [Float]) -> [Float] { apply(.unary(name), vector(values)).scalars }

  func testShrink() {
    // lambd 1.5: −2 → −2 + bias, 2 → 2 − bias, the band [−1.5, 1.5] → 0; bias 0 is the hard form.
    XCTAssertEqual(apply(.shrink(lambd: 1.5, bias: 0.5), vector([-2, -1.5, 0, 1, 2])).scalars, [-1.5, 0, 0, 0, 1.5])
    XCTAssertEqual(apply(.shrink(lambd: 1.5, bias: 0), vector([-2, -1, 1.6])).scalars, [-2, 0, 1.6])
    let y = try? ONNXBuild.run(
      [ONNXBuild.node("Shrink", ["x"], ["y"], [Attr.float("lambd", 1)])], inputs: [("x", vector([-3, 0.5, 3]))],
      opset: 9)
    XCTAssertEqual(y?.scalars, [-3, 0, 3], "bias defaults to 0")
  }

  func testActivations() {
    // x · clamp(x/6 + 1/2, 0, 1): zero below −3, x above 3.
    assertClose(unary("HardSwish", [-4, -1, 0, 1, 4]), [0, -1.0 / 3, 0, 2.0 / 3, 4], accuracy: 1e-6)
    // torch.nn.functional.gelu(x, approximate="tanh") and torch.nn.functional.mish.
    assertClose(unary("GeluTanh", [-1, 0, 1, 2]), [-0.158_808, 0, 0.841_192, 1.954_598], accuracy: 1e-5)
    assertClose(unary("Mish", [-1, 0, 1, 30]), [-0.303_401_4, 0, 0.865_098_4, 30], accuracy: 1e-5)
    // α(exp(x/α) − 1) below zero, α = 2: 2(e^−0.5 − 1).
    assertClose(apply(.celu(alpha: 2), vector([-1, 0, 3])).scalars, [-0.786_938_7, 0, 3], accuracy: 1e-6)
    XCTAssertEqual(apply(.thresholdedRelu(alpha: 1), vector([0.5, 1, 2, -3])).scalars, [0, 0, 2, 0])
  }

  func testRoundingAndSign() {
    XCTAssertEqual(unary("Floor", [-1.5, -1, 0.3, 2.7]), [-2, -1, 0, 2])
    XCTAssertEqual(unary("Ceil", [-1.5, -1, 0.3, 2.7]), [-1, -1, 1, 3])
    // Halves go to the even neighbour, as numpy.round: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2.
    XCTAssertEqual(unary("Round", [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6]), [0, 2, 2, 0, -2, -2, 2, 3])
    XCTAssertEqual(unary("Sign", [-2, 0, 0.1, 7]), [-1, 0, 1, 1])
    XCTAssertEqual(unary("Reciprocal", [-4, 0.5, 2]), [-0.25, 2, 0.5])
  }

  func testTrigonometry() {
    let pi = Float.pi
    assertClose(unary("Sin", [0, pi / 2, -pi / 6]), [0, 1, -0.5], accuracy: 1e-6)
    assertClose(unary("Cos", [0, pi, pi / 3]), [1, -1, 0.5], accuracy: 1e-6)
    assertClose(unary("Tan", [0, pi / 4]), [0, 1], accuracy: 1e-6)
    assertClose(unary("Asin", [0, 1, -0.5]), [0, pi / 2, -pi / 6], accuracy: 1e-6)
    assertClose(unary("Acos", [1, -1, 0.5]), [0, pi, pi / 3], accuracy: 1e-6)
    assertClose(unary("Atan", [0, 1, -1]), [0, pi / 4, -pi / 4], accuracy: 1e-6)
    // sinh 1 = (e − 1/e)/2, cosh 1 = (e + 1/e)/2, asinh 1 = ln(1 + √2), acosh 2 = ln(2 + √3), atanh ½ = ln(3)/2.
    assertClose(unary("Sinh", [0, 1]), [0, 1.175_201_2], accuracy: 1e-6)
    assertClose(unary("Cosh", [0, 1]), [1, 1.543_080_6], accuracy: 1e-6)
    assertClose(unary("Asinh", [0, 1]), [0, 0.881_373_6], accuracy: 1e-6)
    assertClose(unary("Acosh", [1, 2]), [0, 1.316_958], accuracy: 1e-6)
    assertClose(unary("Atanh", [0, 0.5]), [0, 0.549_306_1], accuracy: 1e-6)
    XCTAssertTrue(unary("Acosh", [0.5])[0].isNaN, "outside the domain is NaN, as in numpy")
  }

  func testPowAndModBroadcast() {
    let base = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, -2, 4, 9])
    assertClose(apply(.pow, base, vector([2, 3, 0.5])).scalars, [1, 8, 1.732_050_8, 4, 64, 3], accuracy: 1e-6)
    XCTAssertEqual(apply(.pow, base, Tensor(2)).scalars, [1, 4, 9, 4, 16, 81])
    XCTAssertTrue(apply(.pow, vector([-8]), Tensor(1.0 / 3)).scalars[0].isNaN, "a negative base to a fraction")
    // fmod keeps the dividend's sign, Python's mod the divisor's.
    let a = vector([-4.3, 7.2, 5.0, -4.0, 0.0])
    let b = vector([2.1, -3.4, 3.5, 2.0, 1.5])
    assertClose(apply(.mod(fmod: true), a, b).scalars, [-0.1, 0.4, 1.5, -0, 0], accuracy: 1e-5)
    assertClose(apply(.mod(fmod: false), a, b).scalars, [2.0, -3.0, 1.5, 0, 0], accuracy: 1e-5)
    XCTAssertEqual(apply(.mod(fmod: false), base, Tensor(2)).scalars, [1, 0, 1, 0, 0, 1])
  }

  func testVariadicBroadcast() {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 5, -1, 0, 2, 8])
    let b = vector([3, 0, 4])
    let c = Tensor<Float>(shape: [2, 1], scalars: [2, -6])
    XCTAssertEqual(apply(.variadic(.max), a, b, c).scalars, [3, 5, 4, 3, 2, 8])
    XCTAssertEqual(apply(.variadic(.min), a, b, c).scalars, [1, 0, -1, -6, -6, -6])
    assertClose(apply(.variadic(.mean), a, b, c).scalars, [2, 7.0 / 3, 5.0 / 3, -1, -4.0 / 3, 2], accuracy: 1e-6)
    XCTAssertEqual(apply(.variadic(.mean), a, b, c).shape, [2, 3])
  }

  func testReductions() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3, 4, 0.5, -6])
    func reduce(_ op: ONNXMathOp.Reduction, _ axes: [Int], keep: Bool = false) -> Tensor<Float> {
      apply(.reduce(op, axes: axes, keepDims: keep), x)
    }
    XCTAssertEqual(reduce(.max, [1]).scalars, [3, 4])
    XCTAssertEqual(reduce(.min, [0]).scalars, [1, -2, -6])
    XCTAssertEqual(reduce(.prod, [1]).scalars, [-6, -12])
    XCTAssertEqual(reduce(.l1, []).scalars, [16.5])
    XCTAssertEqual(reduce(.l1, []).shape, [])
    XCTAssertEqual(reduce(.l2, [1], keep: true).shape, [2, 1])
    assertClose(reduce(.l2, [1]).scalars, [Float(14).squareRoot(), Float(52.25).squareRoot()], accuracy: 1e-5)
    XCTAssertEqual(reduce(.sumSquare, [0]).scalars, [17, 4.25, 45])
    XCTAssertEqual(reduce(.logSum, [0]).scalars[0], Foundation.log(5), accuracy: 1e-6)
    // log(e¹ + e⁻² + e³) and log(e⁴ + e^0.5 + e⁻⁶).
    assertClose(reduce(.logSumExp, [1]).scalars, [3.132_845, 4.029_794_5], accuracy: 1e-5)
    // Large values do not overflow; an empty group gives ReduceMax's identity −∞, ReduceProd's 1.
    XCTAssertEqual(
      apply(.reduce(.logSumExp, axes: [0], keepDims: false), vector([1000, 1000])).scalars[0], 1000 + 0.693_147_2,
      accuracy: 1e-3)
    let empty = Tensor<Float>(shape: [2, 0], scalars: [])
    XCTAssertEqual(apply(.reduce(.max, axes: [1], keepDims: true), empty).scalars, [-.infinity, -.infinity])
    XCTAssertEqual(apply(.reduce(.prod, axes: [1], keepDims: false), empty).scalars, [1, 1])
  }

  // MARK: - Through the importer

  func run(
    _ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto] = [], inputs: [(String, Tensor<Float>)],
    opset: Int = 13
  ) throws -> Tensor<Float> {
    try ONNXBuild.run(nodes, initializers, inputs: inputs, opset: opset)
  }

  func testImportedForms() throws {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3, 4, 0.5, -6])
    // Axes as an attribute (opset 13) and as an input (opset 18), negative, keepdims 0.
    let attribute = try run(
      [ONNXBuild.node("ReduceMax", ["x"], ["y"], [Attr.ints("axes", [-1]), Attr.int("keepdims", 0)])],
      inputs: [("x", x)])
    XCTAssertEqual(attribute.scalars, [3, 4])
    let input = try run(
      [ONNXBuild.node("ReduceProd", ["x", "axes"], ["y"])], [ONNXBuild.int64s("axes", [0])], inputs: [("x", x)],
      opset: 18)
    XCTAssertEqual(input.shape, [1, 3])
    XCTAssertEqual(input.scalars, [4, -1, -18])
    // No axes reduces everything, unless noop_with_empty_axes makes it the identity.
    let all = try run([ONNXBuild.node("ReduceSumSquare", ["x"], ["y"])], inputs: [("x", x)], opset: 18)
    XCTAssertEqual(all.shape, [1, 1])
    XCTAssertEqual(all.scalars, [66.25])
    let noop = try run(
      [ONNXBuild.node("ReduceL1", ["x"], ["y"], [Attr.int("noop_with_empty_axes", 1)])], inputs: [("x", x)],
      opset: 18)
    XCTAssertEqual(noop.scalars, x.scalars)
    // Pow with a computed exponent, Max over one input (the identity) and three, Gelu's tanh form.
    let e = Tensor<Float>(shape: [3], scalars: [2, 1, 0])
    let pow = try run([ONNXBuild.node("Pow", ["x", "e"], ["y"])], inputs: [("x", x), ("e", e)])
    XCTAssertEqual(pow.scalars, [1, -2, 1, 16, 0.5, 1])
    XCTAssertEqual(try run([ONNXBuild.node("Max", ["x"], ["y"])], inputs: [("x", x)]).scalars, x.scalars)
    let smallest = try run(
      [ONNXBuild.node("Min", ["x", "e", "c"], ["y"])], [ONNXBuild.tensor("c", [], [0.75])],
      inputs: [("x", x), ("e", e)])
    XCTAssertEqual(smallest.scalars, [0.75, -2, 0, 0.75, 0.5, -6])
    let gelu = try run(
      [ONNXBuild.node("Gelu", ["x"], ["y"], [Attr.string("approximate", "tanh")])], inputs: [("x", x)], opset: 20)
    assertClose(gelu.scalars, x.scalars.map(ONNXMathOp.geluTanh), accuracy: 0)
    XCTAssertNotEqual(gelu.scalars[0], x.scalars.map { 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }[0])
  }

  func testRefusals() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3, 4, 0.5, -6])
    XCTAssertThrowsError(
      try run([ONNXBuild.node("ReduceMin", ["x"], ["y"], [Attr.ints("axes", [2])])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
    XCTAssertThrowsError(
      try run([ONNXBuild.node("ReduceMin", ["x"], ["y"], [Attr.ints("axes", [1, -1])])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("twice"), "\($0)") }
    XCTAssertThrowsError(
      try run([ONNXBuild.node("Pow", ["x", "e"], ["y"])], [ONNXBuild.tensor("e", [2], [1, 2])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("broadcast"), "\($0)") }
    XCTAssertThrowsError(
      try run([ONNXBuild.node("Gelu", ["x"], ["y"], [Attr.string("approximate", "cubic")])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("approximate"), "\($0)") }
  }

  /// Every operator the math converter takes is in the list the importer checks files against.
  func testSupportedListHoldsMathOps() {
    XCTAssertEqual(ONNXConverters.mathOps.subtracting(ONNXConverters.supported), [])
    XCTAssertEqual(ONNXConverters.mathOps.count, 35)
  }

  // MARK: - Model files and export

  /// One graph holding every kind: saved as a Lathe file, reloaded, exported to ONNX at the
  /// default opset (HardSwish, Mish and tanh-Gelu spelled out, attribute axes) and at opset 18
  /// (axes as inputs), and imported again.
  func testSaveReloadAndExportAgain() throws {
    var chain: [Onnx_NodeProto] = []
    var last = "x"
    func add(_ op: String, _ extra: [String] = [], _ attributes: [Onnx_AttributeProto] = []) {
      let out = "v\(chain.count)"
      chain.append(ONNXBuild.node(op, [last] + extra, [out], name: "n\(chain.count)_\(op)", attributes))
      last = out
    }
    // Each function gets values inside its domain: Asin and Acos after Tanh, Atanh after Atan / 2.
    for op in ["HardSwish", "Mish", "Sin", "Cos", "Atan", "Sinh", "Asinh", "Tanh", "Asin", "Tanh", "Acos"] { add(op) }
    add("Gelu", [], [Attr.string("approximate", "tanh")])
    add("Celu", [], [Attr.float("alpha", 0.5)])
    add("ThresholdedRelu", [], [Attr.float("alpha", 0.1)])
    add("Shrink", [], [Attr.float("lambd", 0.2), Attr.float("bias", 0.1)])
    add("Pow", ["two"])
    add("Mod", ["third"], [Attr.int("fmod", 1)])
    add("Max", ["x", "quarter"])
    add("Mean", ["x"])
    add("Min", ["x", "two"])
    for op in ["Reciprocal", "Cosh", "Acosh", "Atan"] { add(op) }
    add("Mul", ["half"])
    add("Atanh")
    add("Tan")
    for op in ["Floor", "Ceil", "Round", "Sign"] {
      add(op)
      add("Add", ["x"])
    }
    add("ReduceLogSumExp", [], [Attr.ints("axes", [2]), Attr.int("keepdims", 1)])
    add("ReduceL2", [], [Attr.ints("axes", [1]), Attr.int("keepdims", 1)])
    for op in ["ReduceMax", "ReduceMin", "ReduceL1", "ReduceSumSquare", "ReduceProd", "ReduceLogSum"] {
      add("Add", ["x"])
      add(op, [], [Attr.ints("axes", [1]), Attr.int("keepdims", 1)])
    }
    let m = ONNXBuild.model(
      nodes: chain,
      initializers: [
        ONNXBuild.tensor("two", [], [2]), ONNXBuild.tensor("half", [], [0.5]),
        ONNXBuild.tensor("third", [3], [0.3, 0.4, 0.5]),
        ONNXBuild.tensor("quarter", [1, 1, 3], [0.25, 0.5, 0.75]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 2, 3])], outputs: [last], opset: 13)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let kinds = Set(model.nodes.compactMap { ($0.layer as? ONNXMathOp).map { "\($0.kind)" } })
    XCTAssertEqual(kinds.count, 35, "\(kinds.sorted())")
    var g = SeededGenerator(seed: 4)
    let x = Tensor<Float>.uniform([3, 2, 3], low: 0.1, high: 0.9, generator: &g)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [3, 1, 3])
    XCTAssertTrue(y.scalars.allSatisfy(\.isFinite), "\(y.scalars)")

    let back = try savedAndReopened(model, x, expecting: y)

    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 13)
    let ops = Set(proto.graph.node.map(\.opType))
    XCTAssertTrue(ops.isDisjoint(with: ["HardSwish", "Mish", "Gelu"]), "spelled out below their opsets: \(ops)")
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(y), 1e-4)

    let builder = GraphBuilder(opset: 18)
    let reduce = Node("r", ONNXMathOp(.reduce(.l1, axes: [1], keepDims: false)), inputs: ["input"])
    try LayerExport(builder: builder, node: reduce, inputs: ["input"], output: "output").export()
    XCTAssertEqual(builder.nodes.map(\.input), [["input", "r.axes"]])
    XCTAssertTrue(builder.nodes[0].attribute.allSatisfy { $0.name != "axes" })
  }
}
