import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// GridSample (`ONNXGridSample`): values against hand-computed ones, the opset-16 spellings,
/// a model file and export round trip, and numerical gradient checks for X and the grid.
final class GridSampleTests: XCTestCase {
  func sample(
    _ mode: ONNXGridSample.Mode, _ padding: ONNXGridSample.Padding = .zeros, align: Bool = false,
    _ x: Tensor<Float>, _ grid: Tensor<Float>
  ) -> [Float] {
    var context = ForwardContext.inference
    let layer = ONNXGridSample(mode: mode, padding: padding, alignCorners: align)
    return layer.forward([Variable(x), Variable(grid)], context: &context).value.scalars
  }

  /// A 1×1×2×2 image [[1, 2], [3, 4]] read at (x, y) points.
  let image = Tensor<Float>(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4])
  func points(_ xy: [Float]) -> Tensor<Float> { Tensor(shape: [1, 1, xy.count / 2, 2], scalars: xy) }

  func testValues() {
    // Aligned corners: ±1 are the corner pixels; 0 is the centre, the mean of all four.
    XCTAssertEqual(sample(.linear, align: true, image, points([-1, -1, 1, -1, 0, 0, 1, 1])), [1, 2, 2.5, 4])
    // Not aligned: ±1 are the outer edges, so (-1, -1) is half outside, in zeros padding.
    XCTAssertEqual(sample(.linear, .zeros, image, points([-1, -1, -0.5, -0.5])), [0.25, 1])
    // Border: x = 3 (pixel 3.5) clamps to the last column, y = 0 lies between the rows.
    XCTAssertEqual(sample(.linear, .border, image, points([-1, -1, 3, 0])), [1, 3])
    // Reflection: x = 1.5 (pixel 2, outside [-0.5, 1.5]) reflects to pixel 1; 1.25 (pixel
    // 1.75) to 1.25, whose taps, 1 and 2, both read column 1 (2 reflects to 1).
    XCTAssertEqual(sample(.linear, .reflection, image, points([1.5, -0.5, 1.25, -0.5])), [2, 2])
    XCTAssertEqual(sample(.linear, .zeros, image, points([1.25, -0.5])), [0.5], "zeros: 0.25 of column 1")
    // Nearest rounds half to even: pixel 0.5 reads index 0.
    XCTAssertEqual(sample(.nearest, align: true, image, points([0, -1, 1, 1])), [1, 4])
    // Cubic at pixel 2.25 of a ramp: Keys's weights for t = 0.25 (α = −0.75), −0.10547,
    // 0.87891, 0.26172 and −0.03516, on columns 1 to 4 (the one row is read through border).
    let ramp = Tensor<Float>(shape: [1, 1, 1, 6], scalars: [0, 1, 2, 3, 4, 5])
    let cubic = sample(.cubic, .border, align: true, ramp, Tensor(shape: [1, 1, 1, 2], scalars: [-0.1, 0]))
    XCTAssertEqual(cubic[0], 2.296875, accuracy: 1e-5)
    // A volumetric input: three grid coordinates, x first.
    let cube = Tensor<Float>(shape: [1, 1, 2, 2, 2], scalars: (0..<8).map(Float.init))
    let corner = Tensor<Float>(shape: [1, 1, 1, 1, 3], scalars: [1, -1, 1])
    XCTAssertEqual(sample(.linear, align: true, cube, corner), [5], "x = 1, y = 0, z = 1 is flat index 5")
    // A grid of batch 1 serves every batch element.
    let two = Tensor<Float>(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 10, 20, 30, 40])
    XCTAssertEqual(sample(.nearest, align: true, two, points([1, -1])), [2, 20])
  }

  func run(_ node: Onnx_NodeProto, opset: Int, _ x: Tensor<Float>, _ grid: Tensor<Float>) throws -> [Float] {
    let m = ONNXBuild.model(
      nodes: [node], initializers: [],
      inputs: [ONNXBuild.value("x", x.shape), ONNXBuild.value("g", grid.shape)], outputs: ["y"], opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(m)).run([x, grid])[0].scalars
  }

  func testImportedSpellingsAndRefusals() throws {
    let grid = points([0, 0])
    let bicubic = ONNXBuild.node(
      "GridSample", ["x", "g"], ["y"], [Attr.string("mode", "bicubic"), Attr.int("align_corners", 1)])
    let cubic = ONNXBuild.node(
      "GridSample", ["x", "g"], ["y"], [Attr.string("mode", "cubic"), Attr.int("align_corners", 1)])
    XCTAssertEqual(try run(bicubic, opset: 16, image, grid), try run(cubic, opset: 20, image, grid))
    // The default is bilinear in 16 and linear in 20: the same.
    XCTAssertEqual(try run(ONNXBuild.node("GridSample", ["x", "g"], ["y"]), opset: 16, image, grid), [2.5])
    XCTAssertThrowsError(
      try run(
        ONNXBuild.node("GridSample", ["x", "g"], ["y"], [Attr.string("padding_mode", "wrap")]), opset: 20, image,
        grid)
    ) { XCTAssertTrue("\($0)".contains("zeros, border or reflection"), "\($0)") }
    XCTAssertThrowsError(
      try run(ONNXBuild.node("GridSample", ["x", "g"], ["y"]), opset: 20, image, Tensor.zeros([1, 1, 1, 3]))
    ) { XCTAssertTrue("\($0)".contains("does not fit"), "\($0)") }
  }

  /// A Lathe model has one input, so the grid is an initializer here (a warp the file fixes).
  func testSaveReloadAndExportAgain() throws {
    var g = SeededGenerator(seed: 9)
    let x = Tensor<Float>.uniform([1, 2, 3, 4], low: -1, high: 1, generator: &g)
    let grid = Tensor<Float>.uniform([1, 2, 5, 2], low: -1.4, high: 1.4, generator: &g)
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "GridSample", ["x", "g"], ["y"], name: "gs",
          [Attr.string("mode", "bicubic"), Attr.string("padding_mode", "reflection")])
      ], initializers: [ONNXBuild.tensor("g", grid.shape, grid.scalars)], inputs: [ONNXBuild.value("x", [1, 2, 3, 4])],
      outputs: ["y"], opset: 16)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let model = try graph.model()
    XCTAssertTrue(model.nodes.contains { ($0.layer as? ONNXGridSample)?.mode == .cubic })
    let y = graph.run([x])[0]
    XCTAssertEqual(y.shape, [1, 2, 2, 5])
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-grid-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    XCTAssertEqual(back.nodes.map(\.layer.spec), model.nodes.map(\.layer.spec))
    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 20)
    XCTAssertTrue(proto.graph.node.map(\.opType).contains("GridSample"))
    let again = try ONNXImporter.load(data: ONNXExporter.data(back))
    XCTAssertEqual(again.run([x])[0].scalars, y.scalars)
  }
}

extension GradientTests {
  /// X's gradient in every mode and padding; the grid's for cubic (Keys's kernel has a
  /// continuous slope; linear's kinks at every pixel would trip central differences), over
  /// grids reaching past ±1 into the padding.
  func testGridSampleGradients() {
    var g = SeededGenerator(seed: 11)
    let grid = Variable(.uniform([2, 3, 2, 2], low: -1.2, high: 1.2, generator: &g))
    let image = Variable(.uniform([2, 2, 3, 4], low: -1, high: 1, generator: &g))
    for mode in ONNXGridSample.Mode.allCases {
      for padding in ONNXGridSample.Padding.allCases {
        for align in [false, true] {
          let layer = ONNXGridSample(mode: mode, padding: padding, alignCorners: align)
          check([2, 2, 3, 4]) { x in
            var context = ForwardContext(isTraining: true)
            return layer.forward([x, grid], context: &context)
          }
          guard mode == .cubic else { continue }
          // One grid for both batch elements: its gradient sums over them.
          check([1, 3, 2, 2]) { p in
            var context = ForwardContext(isTraining: true)
            return layer.forward([image, p], context: &context)
          }
          check([2, 3, 2, 2]) { p in
            var context = ForwardContext(isTraining: true)
            return layer.forward([image, p], context: &context)
          }
        }
      }
    }
  }
}
