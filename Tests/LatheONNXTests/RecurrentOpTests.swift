import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// The specification's equations for RNN, GRU and LSTM, one scalar at a time in Double: the
/// independent answer the imported layers are compared with. Layout 0 throughout.
struct ReferenceRecurrent {
  var kind: ONNXRecurrent.Kind
  var hidden: Int
  var direction = ONNXRecurrent.Direction.forward
  /// W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H], P [D, 3·H], flat.
  var w: [Float]
  var r: [Float]
  var b: [Float]? = nil
  var p: [Float]? = nil
  var clip: Double? = nil
  var inputForget = false
  var linearBeforeReset = false
  /// Per direction; the defaults when nil.
  var activations: [(name: String, alpha: Double, beta: Double)]? = nil

  static func activate(_ name: String, _ alpha: Double, _ beta: Double, _ v: Double) -> Double {
    switch name {
    case "Sigmoid": return 1 / (1 + Foundation.exp(-v))
    case "Tanh": return Foundation.tanh(v)
    case "Relu": return max(v, 0)
    case "HardSigmoid": return min(max(alpha * v + beta, 0), 1)
    case "LeakyRelu": return v >= 0 ? v : alpha * v
    case "ThresholdedRelu": return v > alpha ? v : 0
    case "ScaledTanh": return alpha * Foundation.tanh(beta * v)
    case "Affine": return alpha * v + beta
    case "Elu": return v >= 0 ? v : alpha * (Foundation.exp(v) - 1)
    case "Softsign": return v / (1 + abs(v))
    case "Softplus": return Foundation.log(1 + Foundation.exp(v))
    default: fatalError("no activation \(name) in the reference")
    }
  }

  /// Y [T, D, N, H], Y_h and Y_c [D, N, H] for X [T, N, I].
  func run(
    _ x: Tensor<Float>, h0: Tensor<Float>? = nil, c0: Tensor<Float>? = nil, lengths: [Int]? = nil
  ) -> (y: Tensor<Float>, h: Tensor<Float>, c: Tensor<Float>) {
    let (steps, batch, size) = (x.shape[0], x.shape[1], x.shape[2])
    let (hs, gates, dirs) = (hidden, kind.gates, direction.count)
    // The specification's defaults: RNN f = Tanh; GRU f, g = Sigmoid, Tanh; LSTM f, g, h = Sigmoid, Tanh, Tanh.
    let defaults: [(String, Double, Double)] =
      kind == .rnn
      ? [("Tanh", 0, 0)]
      : kind == .gru ? [("Sigmoid", 0, 0), ("Tanh", 0, 0)] : [("Sigmoid", 0, 0), ("Tanh", 0, 0), ("Tanh", 0, 0)]
    let names = activations ?? Array(repeating: defaults, count: dirs).flatMap { $0 }
    let xs = x.scalars.map(Double.init)
    var y = [Double](repeating: 0, count: steps * dirs * batch * hs)
    var finalH = [Double](repeating: 0, count: dirs * batch * hs)
    var finalC = finalH
    for d in 0..<dirs {
      let act = { (k: Int, v: Double) -> Double in
        let a = names[d * kind.activationCount + k]
        return Self.activate(a.0, a.1, a.2, v)
      }
      let bounded = { (v: Double) in clip.map { min(max(v, -$0), $0) } ?? v }
      let wAt = { (row: Int, i: Int) in Double(w[(d * gates * hs + row) * size + i]) }
      let rAt = { (row: Int, m: Int) in Double(r[(d * gates * hs + row) * hs + m]) }
      let wBias = { (row: Int) in Double(b?[d * 2 * gates * hs + row] ?? 0) }
      let rBias = { (row: Int) in Double(b?[d * 2 * gates * hs + gates * hs + row] ?? 0) }
      let pAt = { (k: Int, j: Int) in Double(p?[d * 3 * hs + k * hs + j] ?? 0) }
      let reverse = direction == .reverse || d == 1
      for n in 0..<batch {
        var h = (0..<hs).map { Double(h0?.scalars[(d * batch + n) * hs + $0] ?? 0) }
        var c = (0..<hs).map { Double(c0?.scalars[(d * batch + n) * hs + $0] ?? 0) }
        let length = lengths?[n] ?? steps
        for t in reverse ? Array((0..<length).reversed()) : Array(0..<length) {
          let xt = Array(xs[((t * batch + n) * size)..<((t * batch + n + 1) * size)])
          // x·W_k + Wb_k (+ h·R_k + Rb_k) for row j of gate k.
          let fromX = { (k: Int, j: Int) in (0..<size).reduce(wBias(k * hs + j)) { $0 + xt[$1] * wAt(k * hs + j, $1) } }
          let fromH = { (k: Int, j: Int, v: [Double]) in
            (0..<hs).reduce(rBias(k * hs + j)) { $0 + v[$1] * rAt(k * hs + j, $1) }
          }
          var newH = h
          var newC = c
          switch kind {
          case .rnn:
            for j in 0..<hs { newH[j] = act(0, bounded(fromX(0, j) + fromH(0, j, h))) }
          case .gru:
            let z = (0..<hs).map { act(0, bounded(fromX(0, $0) + fromH(0, $0, h))) }
            let reset = (0..<hs).map { act(0, bounded(fromX(1, $0) + fromH(1, $0, h))) }
            for j in 0..<hs {
              let recurrent =
                linearBeforeReset ? reset[j] * fromH(2, j, h) : fromH(2, j, (0..<hs).map { reset[$0] * h[$0] })
              let candidate = act(1, bounded(fromX(2, j) + recurrent))
              newH[j] = (1 - z[j]) * candidate + z[j] * h[j]
            }
          case .lstm:
            for j in 0..<hs {
              let pre = { (k: Int) in fromX(k, j) + fromH(k, j, h) }
              let i = act(0, bounded(pre(0) + pAt(0, j) * c[j]))
              let f = inputForget ? 1 - i : act(0, bounded(pre(2) + pAt(2, j) * c[j]))
              newC[j] = f * c[j] + i * act(1, bounded(pre(3)))
              let o = act(0, bounded(pre(1) + pAt(1, j) * newC[j]))
              newH[j] = o * act(2, newC[j])
            }
          }
          (h, c) = (newH, newC)
          for j in 0..<hs { y[((t * dirs + d) * batch + n) * hs + j] = h[j] }
        }
        for j in 0..<hs {
          finalH[(d * batch + n) * hs + j] = h[j]
          finalC[(d * batch + n) * hs + j] = c[j]
        }
      }
    }
    let f = { (v: [Double], shape: [Int]) in Tensor<Float>(shape: shape, scalars: v.map { Float($0) }) }
    return (f(y, [steps, dirs, batch, hs]), f(finalH, [dirs, batch, hs]), f(finalC, [dirs, batch, hs]))
  }
}

/// RNN, GRU and LSTM imported from one-node graphs and compared with `ReferenceRecurrent`:
/// every optional input and output, both directions, sequence lengths, layout 1, the
/// activations and their coefficients, a model-file round trip and malformed nodes.
final class RecurrentOpTests: XCTestCase {
  func values(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor<Float> {
    var g = SeededGenerator(seed: seed)
    return .uniform(shape, low: -scale, high: scale, generator: &g)
  }

  /// Same shape, elements within 1e-5 (float32 against the Double reference).
  func same(
    _ actual: Tensor<Float>, _ expected: Tensor<Float>, _ message: String = "", file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(actual.shape, expected.shape, message, file: file, line: line)
    assertClose(actual.contiguous().scalars, expected.contiguous().scalars, accuracy: 1e-5, file: file, line: line)
  }

  /// The weights of a `kind` node as initializers W, R, B (and P for LSTM), with the reference
  /// holding the same numbers.
  func weights(
    _ kind: ONNXRecurrent.Kind, input: Int, hidden: Int, directions: Int, peepholes: Bool = false, seed: UInt64
  ) -> (initializers: [Onnx_TensorProto], reference: ReferenceRecurrent) {
    let width = kind.gates * hidden
    let w = values([directions, width, input], seed: seed)
    let r = values([directions, width, hidden], seed: seed + 1)
    let b = values([directions, 2 * width], seed: seed + 2)
    let p = values([directions, 3 * hidden], seed: seed + 3)
    var initializers = [
      ONNXBuild.tensor("W", w.shape, w.scalars), ONNXBuild.tensor("R", r.shape, r.scalars),
      ONNXBuild.tensor("B", b.shape, b.scalars),
    ]
    if peepholes { initializers.append(ONNXBuild.tensor("P", p.shape, p.scalars)) }
    let reference = ReferenceRecurrent(
      kind: kind, hidden: hidden, direction: directions == 2 ? .bidirectional : .forward, w: w.scalars,
      r: r.scalars, b: b.scalars, p: peepholes ? p.scalars : nil)
    return (initializers, reference)
  }

  /// Every output of a one-node graph, through the importer.
  func outputs(
    _ node: Onnx_NodeProto, _ initializers: [Onnx_TensorProto], inputs: [(String, Tensor<Float>)], opset: Int = 14
  ) throws -> [Tensor<Float>] {
    let model = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: inputs.map { ONNXBuild.value($0.0, $0.1.shape) },
      outputs: node.output.filter { !$0.isEmpty }, opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(model)).run(inputs.map(\.1))
  }

  func testLSTMWithEveryInputMatchesTheEquations() throws {
    let (steps, batch, input, hidden) = (3, 2, 3, 4)
    let (initializers, reference) = weights(
      .lstm, input: input, hidden: hidden, directions: 1, peepholes: true, seed: 1)
    let x = values([steps, batch, input], seed: 10)
    let h0 = values([1, batch, hidden], seed: 11)
    let c0 = values([1, batch, hidden], seed: 12)
    let node = ONNXBuild.node(
      "LSTM", ["x", "W", "R", "B", "", "h0", "c0", "P"], ["y", "yh", "yc"], name: "lstm",
      [Attr.int("hidden_size", hidden)])
    let got = try outputs(node, initializers, inputs: [("x", x), ("h0", h0), ("c0", c0)])
    let want = reference.run(x, h0: h0, c0: c0)
    XCTAssertEqual(got.count, 3)
    same(got[0], want.y)
    same(got[1], want.h)
    same(got[2], want.c)
    // Y's last step is Y_h (no sequence lengths): the packing cut the right rows.
    XCTAssertEqual(Array(got[0].scalars.suffix(batch * hidden)), got[1].scalars)
  }

  func testGRUBothResetFormsAndRNNMatchTheEquations() throws {
    let x = values([4, 2, 3], seed: 20)
    for linear in [0, 1] {
      var (initializers, reference) = weights(.gru, input: 3, hidden: 2, directions: 1, seed: 21)
      reference.linearBeforeReset = linear == 1
      let node = ONNXBuild.node(
        "GRU", ["x", "W", "R", "B"], ["y", "yh"], name: "gru",
        [Attr.int("hidden_size", 2), Attr.int("linear_before_reset", linear)])
      let got = try outputs(node, initializers, inputs: [("x", x)])
      let want = reference.run(x)
      same(got[0], want.y, "linear_before_reset \(linear)")
      same(got[1], want.h, "linear_before_reset \(linear)")
    }
    let (initializers, reference) = weights(.rnn, input: 3, hidden: 5, directions: 1, seed: 22)
    // Only Y_h (Y's name is empty), at opset 7.
    let node = ONNXBuild.node("RNN", ["x", "W", "R", "B"], ["", "yh"], name: "rnn", [Attr.int("hidden_size", 5)])
    let got = try outputs(node, initializers, inputs: [("x", x)], opset: 7)
    same(got[0], reference.run(x).h)
  }

  func testBidirectionalWithSequenceLengths() throws {
    let (steps, batch) = (4, 3)
    let lengths = [4, 2, 1]
    let x = values([steps, batch, 2], seed: 30)
    for kind in ONNXRecurrent.Kind.allCases {
      let (initializers, reference) = weights(kind, input: 2, hidden: 3, directions: 2, seed: 31)
      let h0 = values([2, batch, 3], seed: 32)
      let c0 = values([2, batch, 3], seed: 33)
      let names = ["x", "W", "R", "B", "lengths", "h0"] + (kind == .lstm ? ["c0"] : [])
      let node = ONNXBuild.node(
        kind.rawValue, names, ["y", "yh"] + (kind == .lstm ? ["yc"] : []), name: "bi",
        [Attr.string("direction", "bidirectional")])
      let feeds = [("x", x), ("h0", h0)] + (kind == .lstm ? [("c0", c0)] : [])
      let got = try outputs(node, initializers + [ONNXBuild.int64s("lengths", lengths)], inputs: feeds)
      let want = reference.run(x, h0: h0, c0: c0, lengths: lengths)
      same(got[0], want.y, "\(kind) Y")
      same(got[1], want.h, "\(kind) Y_h")
      if kind == .lstm { same(got[2], want.c, "\(kind) Y_c") }
      // Steps past a sample's length are zeros in Y.
      XCTAssertEqual(got[0].scalars[((3 * 2 + 0) * batch + 2) * 3], 0, "\(kind)")
    }
  }

  /// Layout 1 is layout 0 with the batch axis first in X, Y and the states.
  func testLayoutOneIsBatchFirst() throws {
    let (steps, batch, hidden) = (3, 2, 2)
    let (initializers, reference) = weights(.lstm, input: 3, hidden: hidden, directions: 2, seed: 40)
    let x = values([steps, batch, 3], seed: 41)
    let h0 = values([2, batch, hidden], seed: 42)
    let node = ONNXBuild.node(
      "LSTM", ["x", "W", "R", "B", "", "h0"], ["y", "yh", "yc"], name: "lstm",
      [Attr.string("direction", "bidirectional"), Attr.int("layout", 1)])
    let got = try outputs(node, initializers, inputs: [("x", x.permuted([1, 0, 2])), ("h0", h0.permuted([1, 0, 2]))])
    let want = reference.run(x, h0: h0)
    same(got[0], want.y.permuted([2, 0, 1, 3]).contiguous())
    same(got[1], want.h.permuted([1, 0, 2]).contiguous())
    same(got[2], want.c.permuted([1, 0, 2]).contiguous())
  }

  /// Non-default activations with their coefficients, clip and input_forget, in reverse.
  func testActivationsClipAndInputForget() throws {
    var (initializers, reference) = weights(.lstm, input: 2, hidden: 3, directions: 1, seed: 50)
    let x = values([3, 2, 2], seed: 51, scale: 3)
    reference.direction = .reverse
    reference.clip = 0.7
    reference.inputForget = true
    reference.activations = [("HardSigmoid", 0.3, 0.4), ("ScaledTanh", 1.5, 0.5), ("Affine", 0.8, 0.1)]
    let node = ONNXBuild.node(
      "LSTM", ["x", "W", "R", "B"], ["y", "yh", "yc"], name: "lstm",
      [
        Attr.string("direction", "reverse"), Attr.float("clip", 0.7), Attr.int("input_forget", 1),
        Attr.strings("activations", ["HardSigmoid", "ScaledTanh", "Affine"]),
        Attr.floats("activation_alpha", [0.3, 1.5, 0.8]), Attr.floats("activation_beta", [0.4, 0.5, 0.1]),
      ])
    let got = try outputs(node, initializers, inputs: [("x", x)])
    let want = reference.run(x)
    same(got[0], want.y)
    same(got[2], want.c)
    // The rest of the functions, one RNN each; alpha/beta go to the functions that take them.
    for (name, alpha, beta) in [
      ("Relu", 0.0, 0.0), ("LeakyRelu", 0.2, 0.0), ("ThresholdedRelu", 0.3, 0.0), ("Elu", 0.5, 0.0),
      ("Softsign", 0.0, 0.0), ("Softplus", 0.0, 0.0), ("Sigmoid", 0.0, 0.0), ("Tanh", 0.0, 0.0),
    ] {
      let (rnnWeights, base) = weights(.rnn, input: 2, hidden: 3, directions: 1, seed: 52)
      var rnn = base
      rnn.activations = [(name, alpha, beta)]
      let takes = ["LeakyRelu", "ThresholdedRelu", "Elu"].contains(name)
      let node = ONNXBuild.node(
        "RNN", ["x", "W", "R", "B"], ["y"], name: "rnn",
        [Attr.strings("activations", [name.lowercased()])]
          + (takes ? [Attr.floats("activation_alpha", [Float(alpha)])] : []))
      same(try outputs(node, rnnWeights, inputs: [("x", x)])[0], rnn.run(x).y, name)
    }
  }

  /// The weights are the layer's trainable parameters, named as other weights are; a model
  /// file holds the layer and gives the same numbers back; the batch may be symbolic.
  func testParametersAndModelFileRoundTrip() throws {
    let (initializers, _) = weights(.lstm, input: 3, hidden: 4, directions: 2, peepholes: true, seed: 60)
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "LSTM", ["x", "W", "R", "B", "", "", "", "P"], ["y", "yh"], name: "lstm",
          [Attr.string("direction", "bidirectional")]),
        ONNXBuild.node("Add", ["y", "yh"], ["sum"], name: "add"),
      ],
      initializers: initializers, inputs: [ONNXBuild.value("x", [3, nil, 3])], outputs: ["sum"], opset: 22)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let layer = try XCTUnwrap(model.nodes.lazy.compactMap { $0.layer as? ONNXRecurrent }.first)
    XCTAssertEqual(layer.parameters.map(\.name), ["weight", "recurrence", "bias", "peephole"])
    XCTAssertTrue(layer.parameters.allSatisfy(\.parameter.isTrainable))
    XCTAssertEqual(layer.weight.value.scalars, initializers[0].floatData)
    let x = values([3, 5, 3], seed: 61)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [3, 2, 5, 4])
    let back = try savedAndReopened(model, x, expecting: y)
    XCTAssertNoThrow(try back.checkShapes())
    // Exported as the operator itself, and imported again to the same numbers.
    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.graph.node.filter { $0.opType == "LSTM" }.count, 1)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(y), 1e-6)
  }

  /// Layout 1, clip, linear_before_reset and activations with coefficients survive the model
  /// file and the ONNX export (opset 14 for the layout). Constant lengths that are all
  /// seq_length are dropped: they would tie the model to one batch size.
  func testGRULayoutOneRoundTrips() throws {
    let (initializers, _) = weights(.gru, input: 2, hidden: 3, directions: 2, seed: 62)
    let attributes = [
      Attr.string("direction", "bidirectional"), Attr.int("layout", 1), Attr.int("linear_before_reset", 1),
      Attr.float("clip", 0.9), Attr.strings("activations", ["HardSigmoid", "Elu", "Sigmoid", "LeakyRelu"]),
      Attr.floats("activation_alpha", [0.3, 0.6, 0.05]), Attr.floats("activation_beta", [0.45]),
    ]
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("GRU", ["x", "W", "R", "B", "lengths"], ["y"], name: "gru", attributes)],
      initializers: initializers + [ONNXBuild.int64s("lengths", [4, 4])], inputs: [ONNXBuild.value("x", [2, 4, 2])],
      outputs: ["y"], opset: 14)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let layer = try XCTUnwrap(model.nodes.lazy.compactMap { $0.layer as? ONNXRecurrent }.first)
    XCTAssertFalse(layer.hasSequenceLengths)
    XCTAssertEqual(layer.activations.map(\.alpha), [0.3, 0.6, 0, 0.05])
    XCTAssertEqual(layer.activations.map(\.beta), [0.45, 0, 0, 0])
    let x = values([3, 4, 2], seed: 63)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [3, 4, 2, 3])
    let back = try savedAndReopened(model, x, expecting: y)
    XCTAssertEqual(try ONNXExporter.proto(back).opsetImport.first?.version, 14)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(y), 1e-6)
  }
}

/// The gradient of each kind with respect to X, the initial states and every weight, through
/// `ONNXRecurrent.run` (with sequence lengths and peepholes, both directions).
extension GradientTests {
  func testRecurrentGradients() {
    let (steps, batch, input, hidden) = (3, 2, 2, 2)
    var g = SeededGenerator(seed: 70)
    let uniform = { (shape: [Int]) in Variable(Tensor<Float>.uniform(shape, low: -1, high: 1, generator: &g)) }
    let lengths = Variable(Tensor(shape: [batch], scalars: [3, 2]))
    for kind in ONNXRecurrent.Kind.allCases {
      for linear in kind == .gru ? [false, true] : [false] {
        let width = kind.gates * hidden
        let w = uniform([2, width, input])
        let r = uniform([2, width, hidden])
        let b = uniform([2, 2 * width])
        let p = kind == .lstm ? uniform([2, 3 * hidden]) : nil
        let x = uniform([steps, batch, input])
        let h0 = uniform([2, batch, hidden])
        let c0 = uniform([2, batch, hidden])
        let defaults = kind.defaultActivations.compactMap { ONNXRecurrentActivation($0) }
        let layer = ONNXRecurrent(
          kind, direction: .bidirectional, hiddenSize: hidden, activations: defaults + defaults, clip: nil,
          linearBeforeReset: linear, hasSequenceLengths: true, hasInitialH: true, hasInitialC: kind == .lstm,
          weight: w.value, recurrence: r.value, bias: b.value, peephole: p?.value)
        func run(
          x: Variable = x, h: Variable = h0, c: Variable = c0, w: Variable = w, r: Variable = r,
          b: Variable = b, p: Variable? = p
        ) -> Variable {
          layer.run([x, lengths, h] + (kind == .lstm ? [c] : []), weight: w, recurrence: r, bias: b, peephole: p)
        }
        check(x.shape) { run(x: $0) }
        check(h0.shape) { run(h: $0) }
        if kind == .lstm { check(c0.shape) { run(c: $0) } }
        check(w.shape) { run(w: $0) }
        check(r.shape) { run(r: $0) }
        check(b.shape) { run(b: $0) }
        if let p { check(p.shape) { run(p: $0) } }
      }
    }
  }
}

/// Malformed RNN, GRU and LSTM nodes and model-file specs name what is wrong.
extension AttributeErrorTests {
  func testRecurrentNodesAndSpecsAreChecked() {
    let (w, r) = (
      ONNXBuild.tensor("W", [1, 8, 3], .init(repeating: 0, count: 24)),
      ONNXBuild.tensor("R", [1, 8, 2], .init(repeating: 0, count: 16))
    )
    func gru(_ attributes: [Onnx_AttributeProto], inputs: [String] = ["x", "W", "R"]) -> Onnx_NodeProto {
      ONNXBuild.node("GRU", inputs, ["y"], name: "gru", attributes)
    }
    assertFails(gru([]), input: [2, 1, 3], initializers: [w, r], saying: "W [1, 8, 3] should be [1, 6, 3]")
    let w6 = ONNXBuild.tensor("W", [1, 6, 3], .init(repeating: 0, count: 18))
    let r6 = ONNXBuild.tensor("R", [1, 6, 2], .init(repeating: 0, count: 12))
    assertFails(
      gru([Attr.string("direction", "sideways")]), input: [2, 1, 3], initializers: [w6, r6],
      saying: "direction \"sideways\" is not forward")
    assertFails(
      gru([Attr.strings("activations", ["Sigmoid", "Cube"])]), input: [2, 1, 3], initializers: [w6, r6],
      saying: "activation \"Cube\" is not one ONNX defines")
    assertFails(
      gru([Attr.strings("activations", ["Sigmoid"])]), input: [2, 1, 3], initializers: [w6, r6],
      saying: "should name 2 function(s) per direction")
    assertFails(
      gru([Attr.int("input_forget", 1)]), input: [2, 1, 3], initializers: [w6, r6], saying: "is LSTM's")
    assertFails(
      gru([Attr.float("clip", -1)]), input: [2, 1, 3], initializers: [w6, r6], saying: "clip -1.0 should be a positive")
    assertFails(
      gru([], inputs: ["x", "x", "R"]), input: [2, 1, 3], initializers: [r6],
      saying: "input 1 (W) is computed at run time")
    assertFails(gru([]), input: [2, 1, 4], initializers: [w6, r6], saying: "should be [1, 6, 4]")
    assertFails(
      gru([], inputs: ["x", "W", "R", "", "", "h0"]), input: [2, 1, 3],
      initializers: [w6, r6, ONNXBuild.tensor("h0", [1, 2, 2], [0, 0, 0, 0])],
      saying: "initial_h [1, 2, 2] should be [1, 1, 2]")
    assertFails(
      gru([], inputs: ["x", "W", "R", "", "lengths"]), input: [2, 1, 3],
      initializers: [w6, r6, ONNXBuild.int64s("lengths", [3])],
      saying: "sequence_lens [3] should each be 0 to seq_length 2")
    // A model file's spec naming an unknown activation or the wrong count of them.
    var spec = ONNXRecurrent(
      .rnn, direction: .forward, hiddenSize: 2, activations: [ONNXRecurrentActivation("Tanh")!], clip: nil,
      weight: .zeros([1, 2, 3]), recurrence: .zeros([1, 2, 2]), bias: nil, peephole: nil
    ).spec
    XCTAssertNotNil(try ONNXLayers().makeLayer(spec))
    spec.attributes["activations"] = .string("Tanh,Tanh")
    XCTAssertThrowsError(try ONNXLayers().makeLayer(spec)) { XCTAssertTrue("\($0)".contains("per direction"), "\($0)") }
    spec.attributes["activations"] = .string("Cube")
    XCTAssertThrowsError(try ONNXLayers().makeLayer(spec)) { XCTAssertTrue("\($0)".contains("Cube"), "\($0)") }
    spec.attributes["activations"] = .string("Tanh")
    spec.attributes["hidden_size"] = .int(-2)
    XCTAssertThrowsError(try ONNXLayers().makeLayer(spec)) { XCTAssertTrue("\($0)".contains("hidden_size"), "\($0)") }
  }
}
