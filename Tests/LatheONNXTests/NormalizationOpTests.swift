import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// LayerNormalization, RMSNormalization, InstanceNormalization, GroupNormalization,
/// DepthToSpace, SpaceToDepth and Tile: imported from small graphs and compared with values
/// computed here by plain loops (or by the engine's own reshape and transpose, which is how
/// the ONNX specification defines the rearrangements).
final class NormalizationOpTests: XCTestCase {
  func values(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
    var g = SeededGenerator(seed: seed)
    return .uniform(shape, low: -2, high: 2, generator: &g)
  }

  /// Imports a one-node graph reading "x" (and initializers) and runs it on `x`.
  func run(
    _ node: Onnx_NodeProto, _ x: Tensor<Float>, initializers: [Onnx_TensorProto] = [], output: String = "y",
    opset: Int = 17
  ) throws -> Tensor<Float> {
    let model = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: [ONNXBuild.value("x", x.shape)], outputs: [output],
      opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(model)).model().predict(x)
  }

  /// Shape and values, through ImportTests' `assertClose` on the scalars.
  func assertValues(
    _ actual: Tensor<Float>, _ shape: [Int], _ expected: [Float], accuracy: Float, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(actual.shape, shape, file: file, line: line)
    assertClose(actual.scalars, expected, accuracy: accuracy, file: file, line: line)
  }

  /// Mean and population variance of `x` over the flat index sets `rows` gives, element by element.
  func standardize(_ x: [Float], rows: [[Int]], epsilon: Float) -> [Float] {
    var y = x
    for row in rows {
      let mean = row.reduce(0) { $0 + Double(x[$1]) } / Double(row.count)
      let variance = row.reduce(0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / Double(row.count)
      for i in row { y[i] = Float((Double(x[i]) - mean) / (variance + Double(epsilon)).squareRoot()) }
    }
    return y
  }

  func testLayerNormalizationMatchesLoops() throws {
    let x = values([2, 3, 4], seed: 1)
    let scale = values([3, 4], seed: 2)
    let bias = values([3, 4], seed: 3)
    let node = ONNXBuild.node(
      "LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"], name: "ln",
      [Attr.int("axis", -2), Attr.float("epsilon", 1e-3)])
    let weights = [
      ONNXBuild.tensor("s", [3, 4], scale.scalars), ONNXBuild.tensor("b", [3, 4], bias.scalars),
    ]
    // Axis 1 of [2, 3, 4]: each sample's 12 values are one row.
    let rows = [Array(0..<12), Array(12..<24)]
    let standardized = standardize(x.scalars, rows: rows, epsilon: 1e-3)
    let expected = standardized.indices.map { standardized[$0] * scale.scalars[$0 % 12] + bias.scalars[$0 % 12] }
    assertValues(try run(node, x, initializers: weights), x.shape, expected, accuracy: 1e-4)

    let means = rows.map { r in r.reduce(Float(0)) { $0 + x.scalars[$1] } / 12 }
    assertValues(
      try run(node, x, initializers: weights, output: "mean"), [2, 1, 1], means,
      accuracy: 1e-5)
    let inverse = rows.enumerated().map { k, r in
      1
        / (r.reduce(Float(0)) { $0 + (x.scalars[$1] - means[k]) * (x.scalars[$1] - means[k]) } / 12 + 1e-3)
        .squareRoot()
    }
    assertValues(
      try run(node, x, initializers: weights, output: "inv"), [2, 1, 1], inverse,
      accuracy: 1e-4)

    // Scale and B become trainable parameters, as BatchNorm's gamma and beta are.
    let model = try ONNXImporter.load(
      data: ONNXBuild.data(
        ONNXBuild.model(
          nodes: [node], initializers: weights, inputs: [ONNXBuild.value("x", [nil, 3, 4])], outputs: ["y"],
          opset: 17))
    ).model()
    let layer = try XCTUnwrap(model.nodes.compactMap { $0.layer as? ONNXNormalization }.first)
    XCTAssertEqual(layer.parameters.map(\.name), ["scale", "bias"])
    XCTAssertTrue(layer.parameters.allSatisfy { $0.parameter.isTrainable })
  }

  func testRMSNormalizationMatchesLoops() throws {
    let x = values([3, 4], seed: 4)
    let scale = values([4], seed: 5)
    let node = ONNXBuild.node("RMSNormalization", ["x", "s"], ["y"], name: "rms", [Attr.float("epsilon", 1e-2)])
    var expected = x.scalars
    for r in 0..<3 {
      let row = Array(x.scalars[(r * 4)..<(r * 4 + 4)])
      let rms = (row.reduce(0) { $0 + $1 * $1 } / 4 + 1e-2).squareRoot()
      for c in 0..<4 { expected[r * 4 + c] = row[c] / rms * scale.scalars[c] }
    }
    assertValues(
      try run(node, x, initializers: [ONNXBuild.tensor("s", [4], scale.scalars)], opset: 23),
      x.shape, expected, accuracy: 1e-5)
  }

  /// [N, C, H, W] rows of one sample and a run of channels.
  func channelRows(_ shape: [Int], channelsPerRow: Int) -> [[Int]] {
    let plane = shape[2...].reduce(1, *)
    let rowSize = channelsPerRow * plane
    return (0..<(shape.reduce(1, *) / rowSize)).map { Array(($0 * rowSize)..<(($0 + 1) * rowSize)) }
  }

  func testInstanceAndGroupNormalizationMatchLoops() throws {
    let x = values([2, 4, 2, 3], seed: 6)
    let scale = values([4], seed: 7)
    let bias = values([4], seed: 8)
    let channelOf = { (i: Int) in (i / 6) % 4 }
    let weights = [ONNXBuild.tensor("s", [4], scale.scalars), ONNXBuild.tensor("b", [4], bias.scalars)]

    let instance = ONNXBuild.node("InstanceNormalization", ["x", "s", "b"], ["y"], name: "in")
    let perChannel = standardize(x.scalars, rows: channelRows(x.shape, channelsPerRow: 1), epsilon: 1e-5)
    let expected = perChannel.indices.map {
      perChannel[$0] * scale.scalars[channelOf($0)] + bias.scalars[channelOf($0)]
    }
    assertValues(try run(instance, x, initializers: weights), x.shape, expected, accuracy: 1e-4)

    // Two groups of two channels; opset 21 weights are per channel.
    let group = ONNXBuild.node(
      "GroupNormalization", ["x", "s", "b"], ["y"], name: "gn",
      [Attr.int("num_groups", 2), Attr.float("epsilon", 1e-3)])
    let grouped = standardize(x.scalars, rows: channelRows(x.shape, channelsPerRow: 2), epsilon: 1e-3)
    let perChannelScaled = grouped.indices.map {
      grouped[$0] * scale.scalars[channelOf($0)] + bias.scalars[channelOf($0)]
    }
    assertValues(
      try run(group, x, initializers: weights, opset: 21), x.shape, perChannelScaled,
      accuracy: 1e-4)

    // Opset 18 to 20: one scale and bias per group.
    let groupWeights = [ONNXBuild.tensor("s", [2], [0.5, -2]), ONNXBuild.tensor("b", [2], [1, 3])]
    let perGroupScaled = grouped.indices.map { i -> Float in
      let g = channelOf(i) / 2
      return grouped[i] * [0.5, -2][g] + [1, 3][g]
    }
    assertValues(
      try run(group, x, initializers: groupWeights, opset: 18), x.shape, perGroupScaled,
      accuracy: 1e-4)
  }

  func testDepthToSpaceAndSpaceToDepthMatchTheSpecification() throws {
    let x = Tensor<Float>(shape: [2, 8, 2, 3], scalars: (0..<96).map(Float.init))
    let b = 2
    // The specification's definitions: reshape, transpose, reshape.
    let dcr = x.reshaped([2, b, b, 2, 2, 3]).permuted([0, 3, 4, 1, 5, 2]).contiguous().reshaped([2, 2, 4, 6])
    let crd = x.reshaped([2, 2, b, b, 2, 3]).permuted([0, 1, 4, 2, 5, 3]).contiguous().reshaped([2, 2, 4, 6])
    let node = { (mode: String) in
      ONNXBuild.node(
        "DepthToSpace", ["x"], ["y"], name: "d2s", [Attr.int("blocksize", b), Attr.string("mode", mode)])
    }
    XCTAssertEqual(try run(node("DCR"), x).scalars, dcr.scalars)
    XCTAssertEqual(try run(node("CRD"), x).scalars, crd.scalars)
    XCTAssertNotEqual(dcr.scalars, crd.scalars, "the two modes should differ on this input")

    let image = Tensor<Float>(shape: [2, 2, 4, 6], scalars: (0..<96).map(Float.init))
    let s2d = image.reshaped([2, 2, 2, b, 3, b]).permuted([0, 3, 5, 1, 2, 4]).contiguous().reshaped([2, 8, 2, 3])
    let spaceToDepth = ONNXBuild.node("SpaceToDepth", ["x"], ["y"], name: "s2d", [Attr.int("blocksize", b)])
    XCTAssertEqual(try run(spaceToDepth, image).scalars, s2d.scalars)
    // Opset 28's CRD mode: the inverse of CRD DepthToSpace.
    let s2dCRD = image.reshaped([2, 2, 2, b, 3, b]).permuted([0, 1, 3, 5, 2, 4]).contiguous().reshaped([2, 8, 2, 3])
    let spaceToDepthCRD = ONNXBuild.node(
      "SpaceToDepth", ["x"], ["y"], name: "s2d", [Attr.int("blocksize", b), Attr.string("mode", "CRD")])
    XCTAssertEqual(try run(spaceToDepthCRD, image, opset: 28).scalars, s2dCRD.scalars)
    XCTAssertNotEqual(s2d.scalars, s2dCRD.scalars)
  }

  func testTileRepeatsWholeCopies() throws {
    let x = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
    let node = ONNXBuild.node("Tile", ["x", "r"], ["y"], name: "tile")
    let y = try run(node, x, initializers: [ONNXBuild.int64s("r", [2, 3])])
    XCTAssertEqual(y.shape, [4, 6])
    XCTAssertEqual(
      y.scalars,
      [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4])
  }

  /// Every layer saves as a Lathe model file and loads back with the same outputs, then exports
  /// to ONNX (opset 28, which SpaceToDepth's CRD mode needs) and imports again.
  func testSaveLoadAndExportAgain() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("InstanceNormalization", ["x", "is", "ib"], ["i"], name: "inorm"),
        ONNXBuild.node("GroupNormalization", ["i", "gs", "gb"], ["g"], name: "gnorm", [Attr.int("num_groups", 2)]),
        ONNXBuild.node(
          "DepthToSpace", ["g"], ["d"], name: "d2s", [Attr.int("blocksize", 2), Attr.string("mode", "CRD")]),
        ONNXBuild.node(
          "SpaceToDepth", ["d"], ["s"], name: "s2d", [Attr.int("blocksize", 2), Attr.string("mode", "CRD")]),
        ONNXBuild.node("Tile", ["s", "r"], ["t"], name: "tile"),
        ONNXBuild.node(
          "LayerNormalization", ["t", "ls", "lb"], ["l", "lm"], name: "lnorm", [Attr.int("axis", -2)]),
        ONNXBuild.node("Add", ["l", "lm"], ["a"], name: "add"),
        ONNXBuild.node("RMSNormalization", ["a", "rs"], ["y"], name: "rms"),
      ],
      initializers: [
        ONNXBuild.tensor("is", [8], values([8], seed: 10).scalars),
        ONNXBuild.tensor("ib", [8], values([8], seed: 11).scalars),
        ONNXBuild.tensor("gs", [8], values([8], seed: 12).scalars),
        ONNXBuild.tensor("gb", [8], values([8], seed: 13).scalars), ONNXBuild.int64s("r", [1, 1, 2, 1]),
        ONNXBuild.tensor("ls", [4, 2], values([4, 2], seed: 14).scalars),
        ONNXBuild.tensor("lb", [4, 2], values([4, 2], seed: 15).scalars),
        ONNXBuild.tensor("rs", [2], [0.5, 2]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 8, 2, 2])], outputs: ["y"], opset: 28)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-norm-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    let x = values([3, 8, 2, 2], seed: 16)
    XCTAssertEqual(back.predict(x).scalars, model.predict(x).scalars)
    XCTAssertEqual(
      Set(back.nodes.map(\.layer.op)).intersection([
        "onnx.InstanceNormalization", "onnx.GroupNormalization", "onnx.DepthToSpace", "onnx.SpaceToDepth",
        "onnx.Tile", "onnx.LayerNormalization", "onnx.RMSNormalization",
      ]).count, 7)
    XCTAssertNoThrow(try back.checkShapes())
    XCTAssertEqual(try ONNXExporter.proto(back).opsetImport.first?.version, 28)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(model.predict(x)), 1e-4)
  }

  /// A model file's spec that asks a kind for an output it does not have, or a mode that does
  /// not exist, is refused when the layer is rebuilt.
  func testDamagedSpecsAreRefused() {
    let rmsMean = LayerSpec(
      op: "onnx.RMSNormalization", attributes: ["output": .string("mean"), "axis": .int(1), "num_groups": .int(0)])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(rmsMean)) { XCTAssertTrue("\($0)".contains("output"), "\($0)") }
    let mode = LayerSpec(op: "onnx.DepthToSpace", attributes: ["blocksize": .int(2), "mode": .string("RCD")])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(mode)) { XCTAssertTrue("\($0)".contains("mode"), "\($0)") }
    XCTAssertNotNil(try ONNXLayers().makeLayer(LayerSpec(op: "onnx.Tile", attributes: ["repeats": .ints([1, 2])])))
  }
}

/// Input gradients and, through `ONNXNormalization.normalize`, the gradient of every weight.
extension GradientTests {
  func testNormalizationGradients() {
    var g = SeededGenerator(seed: 21)
    let x = Variable(.uniform([2, 4, 3], low: -1.5, high: 1.5, generator: &g))
    let scale = Variable(.uniform([4, 3], low: 0.5, high: 1.5, generator: &g))
    let bias = Variable(.uniform([4, 3], low: -1, high: 1, generator: &g))
    let channelScale = Variable(.uniform([4], low: 0.5, high: 1.5, generator: &g))
    let channelBias = Variable(.uniform([4], low: -1, high: 1, generator: &g))
    typealias Kind = ONNXNormalization.Kind
    func layer(
      _ kind: Kind, _ output: ONNXNormalization.Output = .normalized, _ s: Variable?, _ b: Variable?, x: Variable
    )
      -> Variable
    {
      // Axis 1 for every kind: LayerNormalization over [4, 3], the others with 4 channels.
      ONNXNormalization.normalize(
        x, kind: kind, output: output, axis: 1, groups: kind == .group ? 2 : 0, epsilon: 1e-3, scale: s, bias: b)
    }
    for output in [ONNXNormalization.Output.normalized, .mean, .invStdDev] {
      check([2, 4, 3]) { layer(.layer, output, scale, bias, x: $0) }
    }
    check([4, 3]) { layer(.layer, .normalized, $0, bias, x: x) }
    check([4, 3]) { layer(.layer, .normalized, scale, $0, x: x) }
    check([2, 4, 3]) { layer(.rms, .normalized, scale, nil, x: $0) }
    check([4, 3]) { layer(.rms, .normalized, $0, nil, x: x) }
    // Six positions per channel: with three, one instance row of `check`'s seeded input holds
    // values within 0.02 of each other, where its 1e-2 step is not small (smaller steps do
    // converge to the analytic gradient; checked by hand).
    let image = Variable(.uniform([2, 4, 6], low: -1.5, high: 1.5, generator: &g))
    for kind in [Kind.instance, .group] {
      check([2, 4, 6]) { layer(kind, .normalized, channelScale, channelBias, x: $0) }
      check([4]) { layer(kind, .normalized, $0, channelBias, x: image) }
      check([4]) { layer(kind, .normalized, channelScale, $0, x: image) }
    }
  }

  func testRearrangeGradients() {
    check([1, 8, 2, 3], run(ONNXRearrange(.depthToSpace(blockSize: 2, columnRowDepth: false))))
    check([1, 8, 2, 3], run(ONNXRearrange(.depthToSpace(blockSize: 2, columnRowDepth: true))))
    check([1, 2, 4, 6], run(ONNXRearrange(.spaceToDepth(blockSize: 2, columnRowDepth: false))))
    check([1, 2, 4, 6], run(ONNXRearrange(.spaceToDepth(blockSize: 2, columnRowDepth: true))))
    check([2, 3], run(ONNXRearrange(.tile(repeats: [2, 2]))))
  }
}

/// Malformed attributes and weights name the node and say what is wrong.
extension AttributeErrorTests {
  func testNormalizationAttributesAreChecked() {
    let scale = ONNXBuild.tensor("s", [4], [1, 1, 1, 1])
    let bias = ONNXBuild.tensor("b", [4], [0, 0, 0, 0])
    assertFails(
      ONNXBuild.node("LayerNormalization", ["x", "s"], ["y"], name: "ln", [Attr.int("axis", 3)]), input: [2, 4],
      initializers: [scale], opset: 17, saying: "axis 3 is out of range")
    assertFails(
      ONNXBuild.node("LayerNormalization", ["x", "s"], ["y"], name: "ln3", [Attr.int("axis", 0)]), input: [2, 3],
      initializers: [scale], opset: 17, saying: "does not broadcast to the normalised axes [2, 3]")
    assertFails(
      ONNXBuild.node("LayerNormalization", ["x", "s"], ["y"], name: "ln2", [Attr.int("stash_type", 10)]),
      input: [2, 4], initializers: [scale], opset: 17, saying: "stash_type 10")
    assertFails(
      ONNXBuild.node("GroupNormalization", ["x", "s", "b"], ["y"], name: "gn", [Attr.int("num_groups", 3)]),
      input: [1, 4, 2], initializers: [scale, bias], opset: 21, saying: "num_groups 3")
    // Opset 18 wants one weight per group: 4 values are wrong for 2 groups.
    assertFails(
      ONNXBuild.node("GroupNormalization", ["x", "s", "b"], ["y"], name: "gn18", [Attr.int("num_groups", 2)]),
      input: [1, 4, 2], initializers: [scale, bias], opset: 18, saying: "need 2 values each (one per group)")
    assertFails(
      ONNXBuild.node("InstanceNormalization", ["x", "s", "b"], ["y"], name: "in"), input: [1, 3, 2],
      initializers: [scale, bias], saying: "need 3 values each (one per channel)")
    assertFails(
      ONNXBuild.node("DepthToSpace", ["x"], ["y"], name: "d", [Attr.int("blocksize", 2), Attr.string("mode", "XYZ")]),
      input: [1, 4, 2, 2], saying: "mode \"XYZ\"")
    assertFails(
      ONNXBuild.node("DepthToSpace", ["x"], ["y"], name: "d3", [Attr.int("blocksize", 3)]), input: [1, 4, 2, 2],
      saying: "does not divide the channels")
    assertFails(
      ONNXBuild.node("SpaceToDepth", ["x"], ["y"], name: "s"), input: [1, 4, 2, 2],
      saying: "\"blocksize\" should be a positive integer")
    assertFails(
      ONNXBuild.node("Tile", ["x", "r"], ["y"], name: "t"), input: [1, 4],
      initializers: [ONNXBuild.int64s("r", [2])], saying: "repeats [2] should be 2 non-negative counts")
  }
}
