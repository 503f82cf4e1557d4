import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// Resize and Upsample: small graphs whose outputs are worked out by hand from the ONNX
/// specification's coordinate formulas (each expectation below says which input coordinate
/// each output samples), one per mode family.
final class ResizeOpTests: XCTestCase {
  /// Imports a one-node graph reading "x" (and initializers) and runs it on `x`.
  func run(
    _ node: Onnx_NodeProto, _ x: Tensor<Float>, initializers: [Onnx_TensorProto] = [], opset: Int = 13
  ) throws -> Tensor<Float> {
    let model = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: [ONNXBuild.value("x", x.shape)], outputs: ["y"],
      opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(model)).model().predict(x)
  }

  func image(_ shape: [Int], _ values: [Float]) -> Tensor<Float> { Tensor(shape: shape, scalars: values) }

  func resize(_ attributes: [Onnx_AttributeProto], sizes: Bool = false, roi: Bool = false) -> Onnx_NodeProto {
    ONNXBuild.node(
      "Resize", ["x", roi ? "roi" : "", sizes ? "" : "scales", sizes ? "sizes" : ""], ["y"],
      name: "rs", attributes)
  }

  func assertValues(
    _ actual: Tensor<Float>, _ shape: [Int], _ expected: [Float], accuracy: Float = 1e-5,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(actual.shape, shape, file: file, line: line)
    assertClose(actual.scalars, expected, accuracy: accuracy, file: file, line: line)
  }

  func testNearestModes() throws {
    let row = image([1, 1, 1, 2], [1, 2])
    // half_pixel at scale 2 samples -0.25, 0.25, 0.75, 1.25: round_prefer_floor gives 0, 0, 1, 1.
    let up = [ONNXBuild.tensor("scales", [4], [1, 1, 1, 2])]
    assertValues(try run(resize([]), row, initializers: up), [1, 1, 1, 4], [1, 1, 2, 2])
    // asymmetric samples 0, 0.5, 1, 1.5: round_prefer_ceil takes 0.5 up to 1 and 1.5 up to 2 (clamped to 1).
    let ceil = resize([
      Attr.string("coordinate_transformation_mode", "asymmetric"), Attr.string("nearest_mode", "round_prefer_ceil"),
    ])
    assertValues(try run(ceil, row, initializers: up), [1, 1, 1, 4], [1, 2, 2, 2])
    // floor: 0, 0, 1, 1.
    let floor = resize([
      Attr.string("coordinate_transformation_mode", "asymmetric"), Attr.string("nearest_mode", "floor"),
    ])
    assertValues(try run(floor, row, initializers: up), [1, 1, 1, 4], [1, 1, 2, 2])

    // Opset 10 and Upsample: output / scale, rounded up when shrinking (0 and 1/0.6 → 2 here).
    let grid = image([1, 1, 2, 4], [1, 2, 3, 4, 5, 6, 7, 8])
    let opset10 = ONNXBuild.node("Resize", ["x", "scales"], ["y"], name: "rs10")
    let down = [ONNXBuild.tensor("scales", [4], [1, 1, 0.6, 0.6])]
    assertValues(try run(opset10, grid, initializers: down, opset: 10), [1, 1, 1, 2], [1, 3])
    // Growing by whole factors repeats each element (numpy.repeat).
    let upsample = ONNXBuild.node("Upsample", ["x", "scales"], ["y"], name: "up")
    let small = image([1, 1, 2, 2], [1, 2, 3, 4])
    assertValues(
      try run(upsample, small, initializers: [ONNXBuild.tensor("scales", [4], [1, 1, 2, 3])], opset: 9),
      [1, 1, 4, 6], [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4])
    var factors = Onnx_AttributeProto()
    (factors.name, factors.type, factors.floats) = ("scales", .floats, [1, 1, 1, 2])
    let upsample7 = ONNXBuild.node("Upsample", ["x"], ["y"], name: "up7", [factors])
    assertValues(try run(upsample7, row, opset: 7), [1, 1, 1, 4], [1, 1, 2, 2])
  }

  func testLinearModes() throws {
    // align_corners from 2 × 2 to 3 × 3 samples 0, 0.5, 1 along both axes.
    let small = image([1, 1, 2, 2], [1, 2, 3, 4])
    let sizes = [ONNXBuild.int64s("sizes", [1, 1, 3, 3])]
    let corners = resize(
      [Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "align_corners")], sizes: true)
    assertValues(try run(corners, small, initializers: sizes), [1, 1, 3, 3], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])
    // half_pixel at scale 2 samples -0.25 (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1).
    let row = image([1, 1, 1, 2], [1, 2])
    let up = [ONNXBuild.tensor("scales", [4], [1, 1, 1, 2])]
    assertValues(
      try run(resize([Attr.string("mode", "linear")]), row, initializers: up), [1, 1, 1, 4], [1, 1.25, 1.75, 2])
    // To one output: pytorch_half_pixel samples -0.5 (the first element), half_pixel 1.5 (between 2 and 4).
    let four = image([1, 1, 1, 4], [1, 2, 4, 8])
    let one = [ONNXBuild.int64s("sizes", [1, 1, 1, 1])]
    let pytorch = resize(
      [Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "pytorch_half_pixel")], sizes: true)
    assertValues(try run(pytorch, four, initializers: one), [1, 1, 1, 1], [1])
    assertValues(
      try run(resize([Attr.string("mode", "linear")], sizes: true), four, initializers: one), [1, 1, 1, 1], [3])
  }

  func testCubicModes() throws {
    // asymmetric at scale 2: even outputs land on inputs; odd ones halfway, where the Keys
    // kernel with a = -0.75 weighs the four neighbours -3/32, 19/32, 19/32, -3/32 (edges repeat).
    let v: [Float] = [1, 2, 4, 8]
    let x = image([1, 1, 1, 4], v)
    let at = { (i: Int) in v[Swift.min(Swift.max(i, 0), 3)] }
    let half = { (i: Int) -> Float in (-3 * at(i - 1) + 19 * at(i) + 19 * at(i + 1) - 3 * at(i + 2)) / 32 }
    let expected = (0..<8).map { $0 % 2 == 0 ? v[$0 / 2] : half($0 / 2) }
    let up = [ONNXBuild.tensor("scales", [4], [1, 1, 1, 2])]
    let asymmetric = resize([
      Attr.string("mode", "cubic"), Attr.string("coordinate_transformation_mode", "asymmetric"),
    ])
    assertValues(try run(asymmetric, x, initializers: up), [1, 1, 1, 8], expected)
    // exclude_outside drops the tap before the first element and renormalises: at 0.5 the taps
    // are 0, 19, 19, -3 (/32), summing to 35/32.
    let excluded = resize([
      Attr.string("mode", "cubic"), Attr.string("coordinate_transformation_mode", "asymmetric"),
      Attr.int("exclude_outside", 1),
    ])
    let y = try run(excluded, x, initializers: up)
    XCTAssertEqual(y.scalars[1], (19 * 1 + 19 * 2 - 3 * 4) / 35, accuracy: 1e-5)
    XCTAssertEqual(y.scalars[3], half(1), accuracy: 1e-5)
    // cubic_coeff_a = -0.5 at 0.5: weights -1/16, 9/16, 9/16, -1/16.
    let a = resize([
      Attr.string("mode", "cubic"), Attr.string("coordinate_transformation_mode", "asymmetric"),
      Attr.float("cubic_coeff_a", -0.5),
    ])
    XCTAssertEqual(try run(a, x, initializers: up).scalars[3], (-1 * 1 + 9 * 2 + 9 * 4 - 1 * 8) / 16, accuracy: 1e-5)
  }

  func testCropAndResizeAxesAndAspectRatio() throws {
    // roi [0.5, 1.5] of axis 3 only (opset 18 axes): x = y + 1, so 10, 20, then 3 > 2 extrapolates.
    let x = image([1, 1, 1, 3], [0, 10, 20])
    let crop = ONNXBuild.node(
      "Resize", ["x", "roi", "", "sizes"], ["y"], name: "crop",
      [
        Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "tf_crop_and_resize"),
        Attr.ints("axes", [3]), Attr.float("extrapolation_value", 7),
      ])
    let inputs = [ONNXBuild.tensor("roi", [2], [0.5, 1.5]), ONNXBuild.int64s("sizes", [3])]
    assertValues(try run(crop, x, initializers: inputs, opset: 18), [1, 1, 1, 3], [10, 20, 7])

    // not_smaller: sizes 4 × 4 of 2 × 4 scale by max(2, 1) = 2 on both axes; not_larger by 1.
    let grid = image([1, 1, 2, 4], (1...8).map { Float($0) })
    let sizes = [ONNXBuild.int64s("sizes", [4, 4])]
    for (policy, shape) in [("not_smaller", [1, 1, 4, 8]), ("not_larger", [1, 1, 2, 4]), ("stretch", [1, 1, 4, 4])] {
      let node = ONNXBuild.node(
        "Resize", ["x", "", "", "sizes"], ["y"], name: "fit",
        [Attr.ints("axes", [2, 3]), Attr.string("keep_aspect_ratio_policy", policy)])
      XCTAssertEqual(try run(node, grid, initializers: sizes, opset: 18).shape, shape, policy)
    }
    let covered = ONNXBuild.node(
      "Resize", ["x", "", "", "sizes"], ["y"], name: "fit",
      [Attr.ints("axes", [2, 3]), Attr.string("keep_aspect_ratio_policy", "not_smaller")])
    let y = try run(covered, grid, initializers: sizes, opset: 18)
    XCTAssertEqual(Array(y.scalars[0..<8]), [1, 1, 2, 2, 3, 3, 4, 4])
  }

  /// Every kind saves as a Lathe model file and loads back with the same outputs, then exports
  /// (at opset 19, which half_pixel_symmetric needs) and imports again, with a batch that varies.
  func testSaveLoadAndExportAgain() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "Resize", ["x", "", "s1"], ["a"], name: "linear",
          [Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "half_pixel_symmetric")]),
        ONNXBuild.node(
          "Resize", ["a", "", "", "z2"], ["b"], name: "nearest",
          [Attr.ints("axes", [3, 2]), Attr.string("nearest_mode", "ceil")]),
        ONNXBuild.node(
          "Resize", ["b", "", "s3"], ["c"], name: "cubic",
          [Attr.string("mode", "cubic"), Attr.int("antialias", 1), Attr.int("exclude_outside", 1)]),
        ONNXBuild.node(
          "Resize", ["c", "roi", "", "z4"], ["y"], name: "crop",
          [
            Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "tf_crop_and_resize"),
            Attr.float("extrapolation_value", -1), Attr.ints("axes", [2, 3]),
          ]),
      ],
      initializers: [
        ONNXBuild.tensor("s1", [4], [1, 1, 1.5, 2.5]), ONNXBuild.int64s("z2", [7, 5]),
        ONNXBuild.tensor("s3", [4], [1, 1, 0.6, 0.5]),
        ONNXBuild.tensor("roi", [4], [-0.2, 0.1, 0.9, 1.3]), ONNXBuild.int64s("z4", [4, 4]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 2, 3, 4])], outputs: ["y"], opset: 19)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-resize-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    var g = SeededGenerator(seed: 31)
    let x = Tensor<Float>.uniform([3, 2, 3, 4], low: -2, high: 2, generator: &g)
    XCTAssertEqual(model.predict(x).shape, [3, 2, 4, 4])
    XCTAssertEqual(back.predict(x).scalars, model.predict(x).scalars)
    XCTAssertEqual(back.nodes.filter { $0.layer.op == "onnx.Resize" }.count, 4)
    XCTAssertNoThrow(try back.checkShapes())
    XCTAssertEqual(try ONNXExporter.proto(back).opsetImport.first?.version, 19)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertLessThan(again.predict(x).maxAbsDifference(model.predict(x)), 1e-5)

    // Upsample's rounding goes out as nearest_mode floor, at the default opset.
    let upsample = ONNXBuild.model(
      nodes: [ONNXBuild.node("Upsample", ["x", "s"], ["y"], name: "up")],
      initializers: [ONNXBuild.tensor("s", [4], [1, 1, 3, 2])], inputs: [ONNXBuild.value("x", [nil, 2, 3, 4])],
      outputs: ["y"], opset: 9)
    let legacy = try ONNXImporter.load(data: ONNXBuild.data(upsample)).model()
    XCTAssertEqual(try ONNXExporter.proto(legacy).opsetImport.first?.version, 13)
    let exported = try ONNXImporter.load(data: ONNXExporter.data(legacy)).model()
    XCTAssertEqual(exported.predict(x).scalars, legacy.predict(x).scalars)
  }

  /// A damaged model file's spec is refused when the layer is rebuilt.
  func testDamagedSpecsAreRefused() {
    let mode = LayerSpec(op: "onnx.Resize", attributes: ["mode": .string("bicubic"), "scales": .string("1 2")])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(mode)) { XCTAssertTrue("\($0)".contains("mode"), "\($0)") }
    let scales = LayerSpec(op: "onnx.Resize", attributes: ["scales": .string("1 two")])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(scales)) { XCTAssertTrue("\($0)".contains("scales"), "\($0)") }
    let layer = try? ONNXLayers().makeLayer(LayerSpec(op: "onnx.Resize", attributes: ["scales": .string("1 2.5")]))
    XCTAssertEqual((layer as? ONNXResize)?.target, .scales([1, 2.5]))
  }
}

/// The transpose of each interpolation's weights, checked against finite differences.
extension GradientTests {
  func testResizeGradients() {
    func layer(_ target: ONNXResize.Target, roi: [Float] = [], _ set: (inout ONNXResize.Options) -> Void)
      -> (Variable) -> Variable
    {
      var options = ONNXResize.Options()
      set(&options)
      return run(ONNXResize(target, roi: roi, options: options))
    }
    check([1, 2, 3, 4], layer(.scales([1, 1, 2, 1.5])) { _ in })
    check([1, 2, 3, 4], layer(.scales([1, 1, 1.7, 0.5])) { $0.mode = .linear })
    check(
      [1, 2, 3, 4],
      layer(.sizes([-1, -1, 5, 3])) {
        $0.mode = .linear
        $0.coordinates = .alignCorners
      })
    check(
      [2, 3, 4],
      layer(.scales([1, 2, 1.5])) {
        $0.mode = .cubic
        $0.excludeOutside = true
      })
    check(
      [2, 3, 4],
      layer(.scales([1, 0.7, 0.5])) {
        $0.mode = .cubic
        $0.antialias = true
      })
    check(
      [1, 6],
      layer(.scales([1, 0.5])) {
        $0.mode = .linear
        $0.antialias = true
      })
    // Extrapolated outputs are constants: no gradient flows from them.
    check(
      [1, 3, 4],
      layer(.sizes([1, 4, 5]), roi: [0, -0.3, 0.2, 1, 1.2, 0.9]) {
        $0.mode = .linear
        $0.coordinates = .tfCropAndResize
        $0.extrapolation = 5
      })
  }
}

/// Malformed attributes and inputs name the node and say what is wrong.
extension AttributeErrorTests {
  func testResizeAttributesAreChecked() {
    let scales = ONNXBuild.tensor("s", [4], [1, 1, 2, 2])
    let sizes = ONNXBuild.int64s("z", [1, 1, 4, 4])
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "s"], ["y"], name: "r1", [Attr.string("mode", "bicubic")]),
      input: [1, 1, 2, 2], initializers: [scales], saying: "mode \"bicubic\" is not one of nearest, linear, cubic")
    assertFails(
      ONNXBuild.node(
        "Resize", ["x", "", "s"], ["y"], name: "r2", [Attr.string("coordinate_transformation_mode", "x")]),
      input: [1, 1, 2, 2], initializers: [scales], saying: "coordinate_transformation_mode \"x\"")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "s"], ["y"], name: "r3", [Attr.string("nearest_mode", "simple")]),
      input: [1, 1, 2, 2], initializers: [scales], saying: "nearest_mode \"simple\"")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "s", "z"], ["y"], name: "r4"), input: [1, 1, 2, 2],
      initializers: [scales, sizes], saying: "both scales and sizes")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "s"], ["y"], name: "r5"), input: [1, 2, 2],
      initializers: [scales], saying: "should be 3 positive factors")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "x"], ["y"], name: "r6"), input: [1, 1, 2, 2],
      saying: "input 2 (scales) is computed at run time")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "", "z"], ["y"], name: "r7", [Attr.ints("axes", [2, -2])]),
      input: [1, 1, 2, 2], initializers: [ONNXBuild.int64s("z", [4, 4])], opset: 18, saying: "axes [2, -2]")
    assertFails(
      ONNXBuild.node(
        "Resize", ["x", "", "s"], ["y"], name: "r8",
        [Attr.string("mode", "linear"), Attr.string("coordinate_transformation_mode", "tf_crop_and_resize")]),
      input: [1, 1, 2, 2], initializers: [scales], saying: "needs an roi input of 8 values")
    assertFails(
      ONNXBuild.node("Resize", ["x", "", "s"], ["y"], name: "r9", [Attr.int("antialias", 1)]), input: [1, 1, 2, 2],
      initializers: [scales], opset: 18, saying: "antialias applies to linear and cubic")
    assertFails(
      ONNXBuild.node("Resize", ["x"], ["y"], name: "r10"), input: [1, 1, 2, 2], saying: "needs scales or sizes")
  }
}
