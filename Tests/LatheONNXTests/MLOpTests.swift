import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// The `ai.onnx.ml` operators Lathe converts (ArrayFeatureExtractor, Binarizer), in graphs that
/// import only that domain, as scikit-learn exports write them; ZipMap and other map operators
/// refused by name; a graph importing neither domain still refused; ArrayFeatureExtractor's
/// gradient (a Gather's) against central differences.
final class MLOpTests: XCTestCase {
  /// A one-node ai.onnx.ml graph reading graph input `x` of `shape`, importing `domains`.
  static func model(
    _ op: String, _ inputs: [String], _ initializers: [Onnx_TensorProto] = [], shape: [Int],
    _ attributes: [Onnx_AttributeProto] = [], domains: [String] = [ONNXConverters.mlDomain]
  ) -> Data {
    var node = ONNXBuild.node(op, inputs, ["y"], name: "n", attributes)
    node.domain = ONNXConverters.mlDomain
    var m = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: [ONNXBuild.value("x", shape)], outputs: ["y"])
    m.opsetImport = domains.map { domain in
      var o = Onnx_OperatorSetIdProto()
      o.domain = domain
      o.version = 1
      return o
    }
    return ONNXBuild.data(m)
  }

  func testArrayFeatureExtractorPicksLastAxisFeatures() throws {
    let indices = [ONNXBuild.int64s("i", [2, 0])]
    let matrix = try ONNXImporter.load(data: Self.model("ArrayFeatureExtractor", ["x", "i"], indices, shape: [2, 3]))
    let y = matrix.run([Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])])[0]
    XCTAssertEqual(y.shape, [2, 2])
    XCTAssertEqual(y.scalars, [3, 1, 6, 4])
    // A vector's features as a matrix of one row.
    let vector = try ONNXImporter.load(data: Self.model("ArrayFeatureExtractor", ["x", "i"], indices, shape: [3]))
    let row = vector.run([Tensor(shape: [3], scalars: [7, 8, 9])])[0]
    XCTAssertEqual(row.shape, [1, 2])
    XCTAssertEqual(row.scalars, [9, 7])
    let outside = Self.model("ArrayFeatureExtractor", ["x", "i"], [ONNXBuild.int64s("i", [3])], shape: [2, 3])
    XCTAssertThrowsError(try ONNXImporter.load(data: outside)) {
      XCTAssertTrue("\($0)".contains("out of range for the last axis"), "\($0)")
    }
  }

  func testBinarizer() throws {
    let graph = try ONNXImporter.load(data: Self.model("Binarizer", ["x"], shape: [4], [Attr.float("threshold", 1)]))
    XCTAssertEqual(graph.run([Tensor(shape: [4], scalars: [0.5, 1, 1.5, -2])])[0].scalars, [0, 0, 1, 0])
  }

  func testScaler() throws {
    let scaler = Self.model(
      "Scaler", ["x"], shape: [2, 2], [Attr.floats("offset", [1, 2]), Attr.floats("scale", [2])])
    // ([[1, 2], [3, 5]] − [1, 2])·2.
    let y = try ONNXImporter.load(data: scaler).run([Tensor(shape: [2, 2], scalars: [1, 2, 3, 5])])[0]
    XCTAssertEqual(y.scalars, [0, 0, 4, 6])
    let wide = Self.model("Scaler", ["x"], shape: [2, 2], [Attr.floats("offset", [1, 2, 3])])
    XCTAssertThrowsError(try ONNXImporter.load(data: wide)) {
      XCTAssertTrue("\($0)".contains("offset has 3 values"), "\($0)")
    }
  }

  func testNormalizer() throws {
    func normalized(_ norm: String, _ x: [Float]) throws -> [Float] {
      let data = Self.model("Normalizer", ["x"], shape: [2, 2], [Attr.string("norm", norm)])
      return try ONNXImporter.load(data: data).run([Tensor(shape: [2, 2], scalars: x)])[0].scalars
    }
    // Each row over its largest magnitude, its sum of magnitudes, its length; zero rows stay zero.
    XCTAssertEqual(try normalized("MAX", [1, -4, 0, 0]), [0.25, -1, 0, 0])
    XCTAssertEqual(try normalized("L1", [1, -3, 2, 2]), [0.25, -0.75, 0.5, 0.5])
    let l2 = try normalized("L2", [3, 4, 0, 0])
    for (got, want) in zip(l2, [Float(0.6), 0.8, 0, 0]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
    XCTAssertThrowsError(try normalized("L3", [1, 2, 3, 4])) { XCTAssertTrue("\($0)".contains("L3"), "\($0)") }
  }

  func testMapOperatorsAndDomainlessGraphsAreRefused() {
    XCTAssertThrowsError(try ONNXImporter.load(data: Self.model("ZipMap", ["x"], shape: [2]), path: "zip.onnx")) {
      XCTAssertEqual("\($0)", "zip.onnx: unsupported ONNX operators: ai.onnx.ml.ZipMap (nodes: n)")
    }
    XCTAssertThrowsError(
      try ONNXImporter.load(data: Self.model("Binarizer", ["x"], shape: [2], domains: ["com.example"]))
    ) {
      XCTAssertTrue("\($0)".contains("imports no ai.onnx opset"), "\($0)")
    }
  }
}

extension GradientTests {
  func testNormalizerGradient() throws {
    for norm in ["MAX", "L1", "L2"] {
      let data = MLOpTests.model("Normalizer", ["x"], shape: [2, 3], [Attr.string("norm", norm)])
      let model = try ONNXImporter.load(data: data).model()
      check([2, 3]) { x in
        var context = ForwardContext(isTraining: true)
        return model.forward(x, context: &context)
      }
    }
  }

  func testArrayFeatureExtractorGradient() throws {
    let data = MLOpTests.model(
      "ArrayFeatureExtractor", ["x", "i"], [ONNXBuild.int64s("i", [1, 1, 0])], shape: [2, 3])
    let layer = try XCTUnwrap(try ONNXImporter.load(data: data).nodes.first?.layer)
    check([2, 3]) { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context)
    }
  }
}
