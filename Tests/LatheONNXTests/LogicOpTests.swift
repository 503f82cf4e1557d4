import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// The logic operators (ONNXLogicOp): values against hand-computed ones (numpy's semantics), the
/// ONNX forms that reach them (axes and k as inputs, folding on constants, Size and CastLike),
/// and a model holding them saved, reloaded and exported again.
final class LogicOpTests: XCTestCase {
  func apply(_ kind: ONNXLogicOp.Kind, _ inputs: Tensor<Float>...) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXLogicOp(kind).forward(inputs.map { Variable($0) }, context: &context).value
  }

  func vector(_ values: [Float]) -> Tensor<Float> { Tensor(shape: [values.count], scalars: values) }

  func testComparisonsBroadcast() {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, .nan])
    let b = vector([2, 2, 4])
    XCTAssertEqual(apply(.compare(.equal), a, b).scalars, [0, 1, 0, 0, 0, 0], "NaN equals nothing")
    XCTAssertEqual(apply(.compare(.less), a, b).scalars, [1, 0, 1, 0, 0, 0])
    XCTAssertEqual(apply(.compare(.lessOrEqual), a, b).scalars, [1, 1, 1, 0, 0, 0])
    XCTAssertEqual(apply(.compare(.greater), a, b).scalars, [0, 0, 0, 1, 1, 0])
    XCTAssertEqual(apply(.compare(.greaterOrEqual), a, b).scalars, [0, 1, 0, 1, 1, 0])
    XCTAssertEqual(apply(.compare(.less), a, Tensor(3)).shape, [2, 3])
  }

  func testLogic() {
    let a = Tensor<Float>(shape: [2, 2], scalars: [0, 1, 0, 1])
    let b = vector([0, 1])
    XCTAssertEqual(apply(.logic(.and), a, b).scalars, [0, 1, 0, 1])
    XCTAssertEqual(apply(.logic(.or), a, vector([1, 0])).scalars, [1, 1, 1, 1])
    XCTAssertEqual(apply(.logic(.xor), a, Tensor<Float>(shape: [2, 1], scalars: [1, 0])).scalars, [1, 0, 0, 1])
    XCTAssertEqual(apply(.not, vector([0, 1, 2, -1])).scalars, [1, 0, 0, 0], "any non-zero value is true")
  }

  func testWhereIsNaNIsInf() {
    let condition = Tensor<Float>(shape: [2, 1], scalars: [1, 0])
    let x = vector([1, 2, .infinity])
    let y = Tensor<Float>(shape: [2, 3], scalars: [-1, -2, -3, -4, -5, .nan])
    let picked = apply(.select, condition, x, y)
    XCTAssertEqual(picked.shape, [2, 3])
    XCTAssertEqual(Array(picked.scalars.prefix(5)), [1, 2, .infinity, -4, -5])
    XCTAssertTrue(picked.scalars[5].isNaN)
    let v = vector([1, .nan, .infinity, -.infinity, 0])
    XCTAssertEqual(apply(.isNaN, v).scalars, [0, 1, 0, 0, 0])
    XCTAssertEqual(apply(.isInf(positive: true, negative: true), v).scalars, [0, 0, 1, 1, 0])
    XCTAssertEqual(apply(.isInf(positive: true, negative: false), v).scalars, [0, 0, 1, 0, 0])
    XCTAssertEqual(apply(.isInf(positive: false, negative: true), v).scalars, [0, 0, 0, 1, 0])
  }

  func testArgExtremes() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [3, 1, 3, 0, 5, 5])
    XCTAssertEqual(apply(.arg(.max, axis: 1, keepDims: false, selectLast: false), x).scalars, [0, 1])
    XCTAssertEqual(apply(.arg(.max, axis: 1, keepDims: true, selectLast: true), x).scalars, [2, 2])
    XCTAssertEqual(apply(.arg(.max, axis: 1, keepDims: true, selectLast: true), x).shape, [2, 1])
    XCTAssertEqual(apply(.arg(.min, axis: 0, keepDims: false, selectLast: false), x).scalars, [1, 0, 0])
    XCTAssertEqual(apply(.arg(.min, axis: 0, keepDims: true, selectLast: false), x).shape, [1, 3])
    XCTAssertEqual(apply(.arg(.min, axis: 1, keepDims: false, selectLast: true), x).scalars, [1, 0])
  }

  func testCumSumAndTrilu() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    func cumSum(_ axis: Int, exclusive: Bool = false, reverse: Bool = false) -> [Float] {
      apply(.cumSum(axis: axis, exclusive: exclusive, reverse: reverse), x).scalars
    }
    XCTAssertEqual(cumSum(1), [1, 3, 6, 4, 9, 15])
    XCTAssertEqual(cumSum(0), [1, 2, 3, 5, 7, 9])
    XCTAssertEqual(cumSum(1, exclusive: true), [0, 1, 3, 0, 4, 9])
    XCTAssertEqual(cumSum(1, reverse: true), [6, 5, 3, 15, 11, 6])
    XCTAssertEqual(cumSum(1, exclusive: true, reverse: true), [5, 3, 0, 11, 6, 0])
    let m = Tensor<Float>(shape: [2, 3, 3], scalars: (1...18).map(Float.init))
    let upper = apply(.trilu(upper: true, k: 0), m).scalars
    XCTAssertEqual(Array(upper.prefix(9)), [1, 2, 3, 0, 5, 6, 0, 0, 9])
    XCTAssertEqual(Array(upper.suffix(9)), [10, 11, 12, 0, 14, 15, 0, 0, 18], "each matrix of the batch")
    XCTAssertEqual(Array(apply(.trilu(upper: false, k: -1), m).scalars.prefix(9)), [0, 0, 0, 4, 0, 0, 7, 8, 0])
    XCTAssertEqual(Array(apply(.trilu(upper: true, k: 2), m).scalars.prefix(9)), [0, 0, 3, 0, 0, 0, 0, 0, 0])
    XCTAssertEqual(apply(.trilu(upper: false, k: 5), m).scalars, m.scalars)
    // A zero never multiplies the removed elements, so an infinity there leaves no NaN.
    XCTAssertEqual(
      apply(.trilu(upper: true, k: 0), Tensor(shape: [2, 2], scalars: [1, 2, .infinity, 4])).scalars,
      [1, 2, 0, 4])
  }

  // MARK: - Through the importer

  func run(
    _ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto] = [], inputs: [(String, Tensor<Float>)],
    opset: Int = 14
  ) throws -> Tensor<Float> {
    try ONNXBuild.run(nodes, initializers, inputs: inputs, opset: opset)
  }

  func testImportedForms() throws {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3, 4, 0.5, -6])
    // Where over a computed condition.
    let relu = try run(
      [ONNXBuild.node("Greater", ["x", "zero"], ["c"]), ONNXBuild.node("Where", ["c", "x", "zero"], ["y"])],
      [ONNXBuild.tensor("zero", [], [0])], inputs: [("x", x)])
    XCTAssertEqual(relu.scalars, [1, 0, 3, 4, 0.5, 0])
    let arg = try run(
      [ONNXBuild.node("ArgMin", ["x"], ["y"], [Attr.int("axis", -1), Attr.int("keepdims", 0)])], inputs: [("x", x)])
    XCTAssertEqual(arg.shape, [2])
    XCTAssertEqual(arg.scalars, [1, 2])
    let cumSum = try run(
      [ONNXBuild.node("CumSum", ["x", "axis"], ["y"], [Attr.int("exclusive", 1)])], [ONNXBuild.int64s("axis", [-1])],
      inputs: [("x", x)])
    XCTAssertEqual(cumSum.scalars, [0, 1, -1, 0, 4, 4.5])
    let lower = try run(
      [ONNXBuild.node("Trilu", ["x", "k"], ["y"], [Attr.int("upper", 0)])], [ONNXBuild.int64s("k", [1])],
      inputs: [("x", x)])
    XCTAssertEqual(lower.scalars, [1, -2, 0, 4, 0.5, -6])
    let upper = try run([ONNXBuild.node("Trilu", ["x"], ["y"])], inputs: [("x", x)])
    XCTAssertEqual(upper.scalars, [1, -2, 3, 0, 0.5, -6])
    // A run-time CastLike is the identity, as Cast is: the engine keeps fp32.
    let cast = try run(
      [ONNXBuild.node("CastLike", ["x", "i"], ["y"])], [ONNXBuild.int64s("i", [0])], inputs: [("x", x)])
    XCTAssertEqual(cast.scalars, x.scalars)
  }

  /// Size folds to a constant for a fixed shape and stays a layer when the batch is in it.
  func testSize() throws {
    let fixed = ONNXBuild.model(
      nodes: [ONNXBuild.node("Size", ["x"], ["s"]), ONNXBuild.node("Add", ["x", "s"], ["y"])], initializers: [],
      inputs: [ONNXBuild.value("x", [2, 3])], outputs: ["y"])
    let folded = try ONNXImporter.load(data: ONNXBuild.data(fixed))
    XCTAssertFalse(try folded.model().nodes.contains { $0.layer is ONNXLogicOp })
    XCTAssertEqual(folded.run([Tensor(repeating: 1, shape: [2, 3])])[0].scalars, Array(repeating: 7, count: 6))
    let batched = ONNXBuild.model(
      nodes: [ONNXBuild.node("Size", ["x"], ["s"]), ONNXBuild.node("Add", ["x", "s"], ["y"])], initializers: [],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(batched)).model()
    XCTAssertTrue(model.nodes.contains { ($0.layer as? ONNXLogicOp)?.kind == .size })
    XCTAssertEqual(model.predict(Tensor(repeating: 0, shape: [4, 3])).scalars, Array(repeating: 12, count: 12))
  }

  /// On constants the ops fold with ONNX's element types, exactly on int64 values fp32 rounds.
  func testFoldingOnConstants() throws {
    let big = 1 << 40
    let a = ONNXConstant(shape: [2], ints: [big + 1, 5])
    let b = ONNXConstant(shape: [2], ints: [big, 5])
    let equal = ONNXConverters.fold(.compare(.equal), [a, b])
    XCTAssertEqual(equal.ints, [0, 1], "fp32 would call 2^40 + 1 and 2^40 equal")
    XCTAssertEqual(equal.elementType, .bool)
    let condition = ONNXConstant(shape: [2], ints: [1, 0], elementType: .bool)
    let picked = ONNXConverters.fold(.select, [condition, a, ONNXConstant(shape: [], ints: [-1])])
    XCTAssertEqual(picked.ints, [big + 1, -1])
    XCTAssertEqual(picked.elementType, .int64)
    let arg = ONNXConverters.fold(
      .arg(.max, axis: 0, keepDims: false, selectLast: false), [ONNXConstant(vector([1, 9, 3]))])
    XCTAssertEqual(arg.ints, [1])
    XCTAssertEqual(arg.elementType, .int64)
    XCTAssertFalse(ONNXConverters.fold(.isNaN, [ONNXConstant(vector([1]))]).isFloatingPoint)
    // A Reshape target computed by Less and Where on constants: -1 where the entry is negative.
    let x = Tensor<Float>(shape: [2, 6], scalars: (0..<12).map(Float.init))
    let reshaped = try run(
      [
        ONNXBuild.node("Less", ["raw", "zero"], ["negative"]),
        ONNXBuild.node("Where", ["negative", "minus", "raw"], ["target"]),
        ONNXBuild.node("Reshape", ["x", "target"], ["y"]),
      ],
      [ONNXBuild.int64s("raw", [-7, 3]), ONNXBuild.int64s("zero", [0]), ONNXBuild.int64s("minus", [-1])],
      inputs: [("x", x)])
    XCTAssertEqual(reshaped.shape, [4, 3])
    // CastLike of a constant takes the target's type: toward zero into integers.
    let castLike = try run(
      [ONNXBuild.node("CastLike", ["c", "i"], ["ci"]), ONNXBuild.node("Add", ["x", "ci"], ["y"])],
      [ONNXBuild.tensor("c", [2], [-1.7, 2.9]), ONNXBuild.int64s("i", [0])],
      inputs: [("x", Tensor(repeating: 0, shape: [2]))])
    XCTAssertEqual(castLike.scalars, [-1, 2])
  }

  func testRefusals() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3, 4, 0.5, -6])
    XCTAssertThrowsError(
      try run([ONNXBuild.node("ArgMax", ["x"], ["y"], [Attr.int("axis", 2)])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
    XCTAssertThrowsError(
      try run([ONNXBuild.node("CumSum", ["x", "x"], ["y"])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("constant"), "\($0)") }
    XCTAssertThrowsError(
      try run(
        [ONNXBuild.node("CumSum", ["x", "axes"], ["y"])], [ONNXBuild.int64s("axes", [0, 1])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("not one axis"), "\($0)") }
    XCTAssertThrowsError(
      try run(
        [ONNXBuild.node("Where", ["x", "x", "y2"], ["y"])], [ONNXBuild.tensor("y2", [2], [1, 2])], inputs: [("x", x)])
    ) { XCTAssertTrue("\($0)".contains("broadcast"), "\($0)") }
    XCTAssertThrowsError(
      try run([ONNXBuild.node("Trilu", ["v"], ["y"])], inputs: [("v", vector([1, 2]))])
    ) { XCTAssertTrue("\($0)".contains("matrix"), "\($0)") }
  }

  /// Every operator the logic converter takes is in the list the importer checks files against.
  func testSupportedListHoldsLogicOps() {
    XCTAssertEqual(ONNXConverters.logicOps.subtracting(ONNXConverters.supported), [])
    XCTAssertEqual(ONNXConverters.logicOps.count, 18)
  }

  // MARK: - Model files and export

  /// One graph holding every layer kind: saved as a Lathe file, reloaded, exported to ONNX
  /// (opset 14, for Trilu) and imported again.
  func testSaveReloadAndExportAgain() throws {
    let nodes = [
      ONNXBuild.node("Greater", ["x", "half"], ["g"], name: "g"),
      ONNXBuild.node("Less", ["x", "quarter"], ["l"], name: "l"),
      ONNXBuild.node("Equal", ["x", "x"], ["e"], name: "e"),
      ONNXBuild.node("GreaterOrEqual", ["x", "half"], ["ge"], name: "ge"),
      ONNXBuild.node("LessOrEqual", ["x", "half"], ["le"], name: "le"),
      ONNXBuild.node("And", ["g", "e"], ["a"], name: "a"),
      ONNXBuild.node("Or", ["a", "l"], ["o"], name: "o"),
      ONNXBuild.node("Xor", ["o", "ge"], ["xo"], name: "xo"),
      ONNXBuild.node("Xor", ["xo", "le"], ["xo2"], name: "xo2"),
      ONNXBuild.node("Not", ["xo2"], ["n"], name: "n"),
      ONNXBuild.node("Where", ["n", "x", "quarter"], ["w"], name: "w"),
      ONNXBuild.node("CumSum", ["w", "axis"], ["c"], name: "c", [Attr.int("reverse", 1)]),
      ONNXBuild.node("Trilu", ["c", "k"], ["t"], name: "t"),
      ONNXBuild.node("ArgMax", ["t"], ["am"], name: "am", [Attr.int("axis", 2), Attr.int("select_last_index", 1)]),
      ONNXBuild.node("ArgMin", ["x"], ["an"], name: "an", [Attr.int("axis", 1)]),
      ONNXBuild.node("IsNaN", ["x"], ["nan"], name: "nan"),
      ONNXBuild.node("IsInf", ["x"], ["inf"], name: "inf", [Attr.int("detect_negative", 0)]),
      ONNXBuild.node("Size", ["x"], ["s"], name: "s"),
      ONNXBuild.node("Add", ["t", "am"], ["s1"], name: "s1"),
      ONNXBuild.node("Add", ["s1", "an"], ["s2"], name: "s2"),
      ONNXBuild.node("Add", ["s2", "nan"], ["s3"], name: "s3"),
      ONNXBuild.node("Add", ["s3", "inf"], ["s4"], name: "s4"),
      ONNXBuild.node("Add", ["s4", "s"], ["y"], name: "y"),
    ]
    let m = ONNXBuild.model(
      nodes: nodes,
      initializers: [
        ONNXBuild.tensor("half", [], [0.5]), ONNXBuild.tensor("quarter", [3], [0.25, 0.3, 0.6]),
        ONNXBuild.int64s("axis", [2]), ONNXBuild.int64s("k", [1]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 3, 3])], outputs: ["y"], opset: 14)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let kinds = Set(model.nodes.compactMap { ($0.layer as? ONNXLogicOp).map { "\($0.kind)" } })
    XCTAssertEqual(kinds.count, 17, "\(kinds.sorted())")
    var g = SeededGenerator(seed: 5)
    let x = Tensor<Float>.uniform([2, 3, 3], low: 0, high: 1, generator: &g)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [2, 3, 3])

    let back = try savedAndReopened(model, x, expecting: y)

    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 14, "Trilu needs opset 14")
    let ops = proto.graph.node.map(\.opType)
    XCTAssertTrue(Set(ops).isSuperset(of: ["Cast", "Where", "Trilu", "CumSum", "ArgMax", "Size", "Not"]), "\(ops)")
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertEqual(again.predict(x).scalars, y.scalars)
  }
}
