import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// ONNX `Loop` and `Scan`: the body runs once per iteration on the values it carries, reading
/// the enclosing graph's values by name; scan outputs are stacked. Expected values are
/// computed here from the inputs, iteration by iteration.
final class LoopScanTests: XCTestCase {
  private func body(
    _ nodes: [Onnx_NodeProto], inputs: [String], outputs: [String], initializers: [Onnx_TensorProto] = []
  ) -> Onnx_AttributeProto {
    var g = Onnx_GraphProto()
    g.name = "body"
    g.node = nodes
    g.initializer = initializers
    g.input = inputs.map { ONNXBuild.value($0, []) }
    g.output = outputs.map { ONNXBuild.value($0, []) }
    var a = Onnx_AttributeProto()
    a.name = "body"
    a.type = .graph
    a.g = g
    return a
  }

  // MARK: - Scan

  /// A cumulative sum: the state s [2] plus each slice of x, the running state also a scan
  /// output. The body's slice input is named "x" as the graph's scan input is: inside the
  /// body it is the slice.
  private func cumulativeSum(axis: Int, inputReversed: Bool, outputReversed: Bool, xShape: [Int?]) -> Onnx_ModelProto {
    let sum = body(
      [ONNXBuild.node("Add", ["s", "x"], ["s_out"]), ONNXBuild.node("Identity", ["s_out"], ["y"])],
      inputs: ["s", "x"], outputs: ["s_out", "y"])
    let scan = ONNXBuild.node(
      "Scan", ["s0", "x"], ["s_final", "ys"], name: "scan",
      [
        sum, Attr.int("num_scan_inputs", 1), Attr.ints("scan_input_axes", [axis]),
        Attr.ints("scan_input_directions", [inputReversed ? 1 : 0]), Attr.ints("scan_output_axes", [axis]),
        Attr.ints("scan_output_directions", [outputReversed ? 1 : 0]),
      ])
    return ONNXBuild.model(
      nodes: [scan], initializers: [], inputs: [ONNXBuild.value("s0", [2]), ONNXBuild.value("x", xShape)],
      outputs: ["s_final", "ys"], opset: 16)
  }

  /// The slices of `x` [T, 2] summed onto `s0` in the given order, and the running sums in
  /// the order the scan output stacks them.
  private func expectedSum(_ s0: [Float], _ rows: [[Float]], inputReversed: Bool, outputReversed: Bool) -> (
    [Float], [[Float]]
  ) {
    var s = s0
    var running: [[Float]] = []
    for row in inputReversed ? rows.reversed() : rows {
      s = zip(s, row).map { $0 + $1 }
      running.append(s)
    }
    return (s, outputReversed ? running.reversed() : running)
  }

  func testScanCumulativeSumInEveryDirection() throws {
    for (inputReversed, outputReversed) in [(false, false), (true, false), (false, true), (true, true)] {
      let m = cumulativeSum(axis: 0, inputReversed: inputReversed, outputReversed: outputReversed, xShape: [nil, 2])
      let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
      XCTAssertEqual(graph.nodes.filter { $0.layer is ONNXLoop }.count, 2, "one layer per output")
      // Two lengths on one import: the iteration count is read from the fed input.
      for rows in [[[1, 2], [3, -4], [0.5, 6], [7, 8]], [[-1, 1], [2, 2], [10, 0]]] as [[[Float]]] {
        let s0: [Float] = [100, 200]
        let out = graph.run([
          Tensor(shape: [2], scalars: s0), Tensor(shape: [rows.count, 2], scalars: rows.flatMap { $0 }),
        ])
        let (final, running) = expectedSum(s0, rows, inputReversed: inputReversed, outputReversed: outputReversed)
        let label = "input reversed \(inputReversed), output reversed \(outputReversed), \(rows.count) rows"
        XCTAssertEqual(out[0].scalars, final, label)
        XCTAssertEqual(out[1].shape, [rows.count, 2], label)
        XCTAssertEqual(out[1].scalars, running.flatMap { $0 }, label)
      }
    }
  }

  /// x [2, T] scanned along axis 1 (given as -1), the scan output stacked along axis 1 too.
  func testScanAlongTheLastAxis() throws {
    let m = cumulativeSum(axis: -1, inputReversed: false, outputReversed: false, xShape: [2, nil])
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let columns: [[Float]] = [[1, 2], [3, 4], [5, 6]]
    // x[i][t] = columns[t][i]
    let x = Tensor<Float>(shape: [2, 3], scalars: (0..<2).flatMap { i in columns.map { $0[i] } })
    let out = graph.run([Tensor(shape: [2], scalars: [0, 1]), x])
    let (final, running) = expectedSum([0, 1], columns, inputReversed: false, outputReversed: false)
    XCTAssertEqual(out[0].scalars, final)
    XCTAssertEqual(out[1].shape, [2, 3])
    XCTAssertEqual(out[1].scalars, (0..<2).flatMap { i in running.map { $0[i] } })
  }

  func testScanBodyWithTheWrongOutputCountIsRefused() throws {
    var m = cumulativeSum(axis: 0, inputReversed: false, outputReversed: false, xShape: [3, 2])
    m.graph.node[0].attribute[0].g.output.removeLast()
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m))) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("\"scan\""), message)
      XCTAssertTrue(message.contains("the body has 1 outputs; the node needs 2"), message)
    }
  }

  /// Opset 8's Scan: a batch axis first on every input, the sequence second, a length per
  /// batch entry. Each entry runs over its first `lens` steps, here from the last of them back
  /// (`directions` 1), and its scan output is padded with zeros (as ONNX Runtime does).
  func testOpset8ScanRunsEachBatchEntryOverItsLength() throws {
    let step = body(
      [ONNXBuild.node("Add", ["s", "x"], ["s_out"]), ONNXBuild.node("Mul", ["s_out", "x"], ["y"])],
      inputs: ["s", "x"], outputs: ["s_out", "y"])
    let scan = ONNXBuild.node(
      "Scan", ["lens", "s0", "xs"], ["s_final", "ys"], name: "scan8",
      [step, Attr.int("num_scan_inputs", 1), Attr.ints("directions", [1])])
    let m = ONNXBuild.model(
      nodes: [scan], initializers: [],
      inputs: [ONNXBuild.value("lens", [2]), ONNXBuild.value("s0", [2, 2]), ONNXBuild.value("xs", [2, 3, 2])],
      outputs: ["s_final", "ys"], opset: 8)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let s0: [Float] = [1, -1, 0.5, 2]
    let xs: [Float] = [1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6]
    for lens in [[3, 1], [2, 3], [0, 2]] {
      var finals: [Float] = []
      var rows: [Float] = []
      for b in 0..<2 {
        var state = Array(s0[(2 * b)..<(2 * b + 2)])
        for t in (0..<lens[b]).reversed() {
          let x = Array(xs[(6 * b + 2 * t)..<(6 * b + 2 * t + 2)])
          state = zip(state, x).map { $0 + $1 }
          rows += zip(state, x).map { $0 * $1 }
        }
        rows += Array(repeating: 0, count: 2 * (3 - lens[b]))
        finals += state
      }
      let out = graph.run([
        Tensor(shape: [2], scalars: lens.map { Float($0) }), Tensor(shape: [2, 2], scalars: s0),
        Tensor(shape: [2, 3, 2], scalars: xs),
      ])
      XCTAssertEqual(out[0].scalars, finals, "lengths \(lens)")
      XCTAssertEqual(out[1].shape, [2, 3, 2], "lengths \(lens)")
      XCTAssertEqual(out[1].scalars, rows, "lengths \(lens)")
    }
  }

  // MARK: - Loop

  /// y [3] carried: each iteration adds the iteration number i and k (a body initializer),
  /// and the scan output is y * y after the addition.
  private func counting(tripCount: [Onnx_NodeProto], trip: String) -> Onnx_ModelProto {
    let step = body(
      [
        ONNXBuild.node("Cast", ["i"], ["i_f"], [Attr.int("to", 1)]),
        ONNXBuild.node("Add", ["y_in", "i_f"], ["y_i"]),
        ONNXBuild.node("Add", ["y_i", "k"], ["y_out"]),
        ONNXBuild.node("Mul", ["y_out", "y_out"], ["sq"]),
        ONNXBuild.node("Identity", ["cond_in"], ["cond_out"]),
      ],
      inputs: ["i", "cond_in", "y_in"], outputs: ["cond_out", "y_out", "sq"],
      initializers: [ONNXBuild.tensor("k", [1], [0.5])])
    let loop = ONNXBuild.node("Loop", [trip, "", "y0"], ["y_final", "squares"], name: "loop", [step])
    return ONNXBuild.model(
      nodes: tripCount + [loop], initializers: [], inputs: [ONNXBuild.value("y0", [3])],
      outputs: ["y_final", "squares"], opset: 16)
  }

  private func expectedCounting(_ y0: [Float], trips: Int) -> ([Float], [Float]) {
    var y = y0
    var squares: [Float] = []
    for i in 0..<trips {
      y = y.map { $0 + Float(i) + 0.5 }
      squares += y.map { $0 * $0 }
    }
    return (y, squares)
  }

  func testLoopWithAConstantTripCount() throws {
    let m = counting(
      tripCount: [ONNXBuild.node("Constant", [], ["M"], [Attr.tensor("value", ONNXBuild.int64s("m", [4]))])],
      trip: "M")
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let y0: [Float] = [1, -2, 3]
    let out = graph.run([Tensor(shape: [3], scalars: y0)])
    let (final, squares) = expectedCounting(y0, trips: 4)
    XCTAssertEqual(out[0].scalars, final)
    XCTAssertEqual(out[1].shape, [4, 3])
    XCTAssertEqual(out[1].scalars, squares)
    // The model form runs it too, and so does the model a file holds (the body in the first
    // output's spec; the second output's layer runs the same body object).
    let model = try graph.model()
    XCTAssertEqual(model.predict(feeds: [Tensor(shape: [3], scalars: y0)]).map(\.scalars), out.map(\.scalars))
    let loaded = try savedAndLoaded(model)
    XCTAssertEqual(loaded.predict(feeds: [Tensor(shape: [3], scalars: y0)]).map(\.scalars), out.map(\.scalars))
    let loops = loaded.nodes.compactMap { $0.layer as? ONNXLoop }
    XCTAssertEqual(loops.count, 2)
    XCTAssertTrue(loops[0].body === loops[1].body, "one body runs once for both outputs")
  }

  /// A loop layer whose body description is damaged, or whose owner is absent, is refused
  /// naming the op and what it expected.
  func testADamagedLoopBodyIsRefused() {
    for op in ["onnx.Loop", "onnx.Scan"] {
      let broken = LayerSpec(op: op, attributes: ["output": .int(0), "group": .string("l"), "body": .string("[1")])
      XCTAssertThrowsError(try ONNXLayers().makeLayer(broken)) {
        XCTAssertTrue("\($0)".contains(op) && "\($0)".contains("subgraph description"), "\($0)")
      }
      let orphan = LayerSpec(op: op, attributes: ["output": .int(1), "group": .string("l")])
      XCTAssertThrowsError(try ONNXLayers().makeLayer(orphan)) {
        XCTAssertTrue("\($0)".contains("holds its body"), "\($0)")
      }
    }
  }

  /// `model` written to a Lathe model file and read back.
  private func savedAndLoaded(_ model: Model) throws -> Model {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-loop-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    return try ModelFile.load(from: url, builders: ONNXLayers.builders)
  }

  /// The trip count fed at run time, zero included: the scan output is then [0, 3].
  func testLoopWithARunTimeTripCount() throws {
    var m = counting(tripCount: [], trip: "M")
    m.graph.input.append(ONNXBuild.value("M", []))
    m.graph.input[1].type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let y0: [Float] = [0.25, 2, -1]
    for trips in [3, 6, 0] {
      let out = graph.run([Tensor(shape: [3], scalars: y0), Tensor(Float(trips))])
      let (final, squares) = expectedCounting(y0, trips: trips)
      XCTAssertEqual(out[0].scalars, final, "\(trips) trips")
      XCTAssertEqual(out[1].shape, [trips, 3], "\(trips) trips")
      XCTAssertEqual(out[1].scalars, squares, "\(trips) trips")
    }
  }

  /// A while loop with a bound: y doubles until it reaches the limit (a graph input), well
  /// before the trip count of 50 runs out. The body's condition ends it.
  func testLoopBodyEndsItEarly() throws {
    let step = body(
      [
        ONNXBuild.node("Mul", ["y_in", "two"], ["y_out"]),
        ONNXBuild.node("ReduceSum", ["y_out"], ["total"], [Attr.int("keepdims", 0)]),
        ONNXBuild.node("Less", ["total", "limit"], ["cond_out"]),
      ],
      inputs: ["i", "cond_in", "y_in"], outputs: ["cond_out", "y_out", "y_out"],
      initializers: [ONNXBuild.tensor("two", [], [2])])
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Loop", ["M", "go", "y0"], ["y_final", "ys"], name: "doubling", [step])],
      initializers: [ONNXBuild.int64s("M", [50]), ONNXBuild.tensor("go", [], [1])],
      inputs: [ONNXBuild.value("y0", [2]), ONNXBuild.value("limit", [])], outputs: ["y_final", "ys"], opset: 16)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    for (y0, limit) in [([1, 2], 100), ([0.5, 0.25], 7), ([3, 4], 1)] as [([Float], Float)] {
      var y = y0
      var rows: [Float] = []
      var going = true
      var trips = 0
      while going && trips < 50 {
        y = y.map { $0 * 2 }
        rows += y
        going = y.reduce(0, +) < limit
        trips += 1
      }
      XCTAssertLessThan(trips, 50)
      let out = graph.run([Tensor(shape: [2], scalars: y0), Tensor(limit)])
      XCTAssertEqual(out[0].scalars, y, "limit \(limit)")
      XCTAssertEqual(out[1].shape, [trips, 2], "limit \(limit)")
      XCTAssertEqual(out[1].scalars, rows, "limit \(limit)")
    }
  }

  /// The body reads x, a graph input, and w, computed by an enclosing node, by name; the node
  /// after the loop reads x too.
  func testLoopReadsEnclosingValues() throws {
    let step = body(
      [
        ONNXBuild.node("Mul", ["acc_in", "w"], ["scaled"]),
        ONNXBuild.node("Add", ["scaled", "x"], ["acc_out"]),
        ONNXBuild.node("Identity", ["cond_in"], ["cond_out"]),
      ],
      inputs: ["i", "cond_in", "acc_in"], outputs: ["cond_out", "acc_out"])
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Mul", ["x", "half"], ["w"]),
        ONNXBuild.node("Loop", ["M", "", "zero"], ["acc"], name: "accumulate", [step]),
        ONNXBuild.node("Sub", ["acc", "x"], ["out"]),
      ],
      initializers: [
        ONNXBuild.int64s("M", [3]), ONNXBuild.tensor("half", [], [0.5]), ONNXBuild.tensor("zero", [2], [0, 0]),
      ],
      inputs: [ONNXBuild.value("x", [2])], outputs: ["out"], opset: 16)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let loop = try XCTUnwrap(graph.nodes.first { $0.layer is ONNXLoop }?.layer as? ONNXLoop)
    XCTAssertEqual(loop.body.captured.count, 2, "x and w: \(loop.body.captured)")
    for x in [[1, 2], [-3, 0.5]] as [[Float]] {
      let w = x.map { $0 * 0.5 }
      var acc: [Float] = [0, 0]
      for _ in 0..<3 { acc = (0..<2).map { acc[$0] * w[$0] + x[$0] } }
      XCTAssertEqual(graph.run([Tensor(shape: [2], scalars: x)])[0].scalars, (0..<2).map { acc[$0] - x[$0] })
    }
  }

  /// A Scan inside a Loop's body: the inner body reads w from the outermost graph and i (the
  /// outer iteration number, cast) from the Loop's body; the Scan reads x from the outermost
  /// graph. Each trip runs over x from the end: s += x_t * w, emitting s + i.
  func testScanInsideALoopReadsBothEnclosingGraphs() throws {
    let inner = body(
      [
        ONNXBuild.node("Mul", ["xt", "w"], ["xw"]), ONNXBuild.node("Add", ["s", "xw"], ["s_out"]),
        ONNXBuild.node("Add", ["s_out", "i"], ["y"]),
      ],
      inputs: ["s", "xt"], outputs: ["s_out", "y"])
    let outer = body(
      [
        ONNXBuild.node("Cast", ["iter"], ["i"], [Attr.int("to", 1)]),
        ONNXBuild.node(
          "Scan", ["acc_in", "x"], ["acc_out", "ys"], name: "inner_scan",
          [inner, Attr.int("num_scan_inputs", 1), Attr.ints("scan_input_directions", [1])]),
        ONNXBuild.node("Identity", ["c_in"], ["c_out"]),
      ],
      inputs: ["iter", "c_in", "acc_in"], outputs: ["c_out", "acc_out", "ys"])
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Loop", ["M", "", "acc0"], ["acc", "history"], name: "outer_loop", [outer])],
      initializers: [ONNXBuild.int64s("M", [3])],
      inputs: [ONNXBuild.value("acc0", [2]), ONNXBuild.value("x", [nil, 2]), ONNXBuild.value("w", [2])],
      outputs: ["acc", "history"], opset: 16)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let (acc0, w): ([Float], [Float]) = ([0.5, -1], [2, -0.5])
    for x in [[1, 2, 3, 4], [0.25, -1, 3, 2, -2, 1]] as [[Float]] {
      let steps = x.count / 2
      var acc = acc0
      var history: [Float] = []
      for i in 0..<3 {
        for t in (0..<steps).reversed() {
          acc = (0..<2).map { acc[$0] + x[2 * t + $0] * w[$0] }
          history += acc.map { $0 + Float(i) }
        }
      }
      let out = graph.run([
        Tensor(shape: [2], scalars: acc0), Tensor(shape: [steps, 2], scalars: x), Tensor(shape: [2], scalars: w),
      ])
      XCTAssertEqual(out[0].scalars, acc, "\(steps) steps")
      XCTAssertEqual(out[1].shape, [3, steps, 2], "\(steps) steps")
      XCTAssertEqual(out[1].scalars, history, "\(steps) steps")
      // A model file holds the Scan inside the Loop's body as the body's own node.
      let loaded = try savedAndLoaded(try graph.model())
      let feeds = [
        Tensor(shape: [2], scalars: acc0), Tensor(shape: [steps, 2], scalars: x), Tensor(shape: [2], scalars: w),
      ]
      XCTAssertEqual(loaded.predict(feeds: feeds).map(\.scalars), out.map(\.scalars), "\(steps) steps")
    }
  }

  func testLoopBodyWithTheWrongOutputCountIsRefused() throws {
    var m = counting(
      tripCount: [ONNXBuild.node("Constant", [], ["M"], [Attr.tensor("value", ONNXBuild.int64s("m", [2]))])],
      trip: "M")
    m.graph.node[1].attribute[0].g.output.removeLast()
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m))) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("\"loop\""), message)
      XCTAssertTrue(message.contains("the body has 2 outputs; the node needs 3"), message)
    }
  }

  func testLoopWithoutTripCountOrConditionIsRefused() throws {
    var m = counting(tripCount: [], trip: "")
    m.graph.node[0].input[0] = ""
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m))) {
      XCTAssertTrue("\($0)".contains("neither a trip count (M) nor a condition"), "\($0)")
    }
  }
}

/// Gradients flow through every iteration: to the scan input's slices, the initial state and
/// a captured value.
extension GradientTests {
  /// p = s * x_t * c: a running product scanned over x's second axis from the end, with c
  /// captured from the enclosing graph.
  private func productScan(output: Int, _ s: Variable, _ x: Variable, _ c: Variable) -> Variable {
    let nodes = [
      Node("p", ONNXOp(.mul), inputs: ["s", "x_t"]), Node("q", ONNXOp(.mul), inputs: ["p", "c"]),
    ]
    let body = ONNXLoopBody(
      kind: .scan(inputAxes: [1], inputReversed: [true], outputAxes: [0], outputReversed: [false]), nodes: nodes,
      bodyInputs: ["s", "x_t"], bodyOutputs: ["q", "q"], captured: ["c"], carried: 1, sliceShapes: [[3]])
    var context = ForwardContext(isTraining: true)
    return ONNXLoop(body, output: output).forward([s, x, c], context: &context)
  }

  func testScanGradient() {
    let s = Variable(Tensor(shape: [3], scalars: [0.5, -1, 1.5]))
    let x = Variable(Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 % 5) * 0.3 - 0.6 }))
    let c = Variable(Tensor(shape: [3], scalars: [1.1, 0.9, -0.8]))
    for output in 0..<2 {
      check([3, 4]) { productScan(output: output, s, $0, c) }
      check([3]) { productScan(output: output, $0, x, c) }
      check([3]) { productScan(output: output, s, x, $0) }
    }
  }

  /// A Loop of three trips: y = y * y_scale + i, the carried y and its stacked history.
  func testLoopGradient() {
    let nodes = [Node("y", ONNXOp(.mul), inputs: ["y_in", "scale"]), Node("z", ONNXOp(.sub), inputs: ["y", "i"])]
    let body = ONNXLoopBody(
      kind: .loop(hasTripCount: true, hasCondition: false), nodes: nodes, bodyInputs: ["i", "cond", "y_in"],
      bodyOutputs: ["cond", "z", "z"], captured: ["scale"], carried: 1, sliceShapes: [[2, 2]])
    let trips = Variable(Tensor(Float(3)))
    let scale = Variable(Tensor(shape: [2, 2], scalars: [0.9, -1.2, 0.7, 1.1]))
    let y0 = Variable(Tensor(shape: [2, 2], scalars: [1, 2, -0.5, 0.3]))
    for output in 0..<2 {
      let run = { (y: Variable, s: Variable) -> Variable in
        var context = ForwardContext(isTraining: true)
        return ONNXLoop(body, output: output).forward([trips, y, s], context: &context)
      }
      check([2, 2]) { run($0, scale) }
      check([2, 2]) { run(y0, $0) }
    }
  }
}
