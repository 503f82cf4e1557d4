import Foundation
import LatheTensor
import XCTest

/// The encoder's pieces: masked mean pooling, L2 normalisation and GELU's tanh form against
/// finite differences and formulas, their shape rules, and `Transformer.encoder` as a whole
/// (padding must not change a sentence's embedding).
final class EncoderTests: XCTestCase {
  func testMaskedMeanAveragesOnlyUnmaskedTokens() {
    let x = TestData.uniform([2, 3, 2], seed: 1)
    let mask = Tensor<Float>(shape: [2, 3], scalars: [1, 0, 1, 0, 0, 0])
    let y = Variable(x).maskedMean(mask: mask).value
    XCTAssertEqual(y.shape, [2, 2])
    for j in 0..<2 { XCTAssertEqual(y[0, j], (x[0, 0, j] + x[0, 2, j]) / 2, accuracy: 1e-6) }
    // A row of padding only: zeros, as sentence-transformers' clamp(min=1e-9) gives.
    XCTAssertEqual(y.sliced(axis: 0, 1..<2).scalars, [0, 0])
  }

  func testMaskedMeanGradient() {
    let mask = Tensor<Float>(shape: [2, 4], scalars: [1, 1, 0, 1, 1, 0, 0, 0])
    checkGradients([TestData.uniform([2, 4, 3], seed: 2)]) { $0[0].maskedMean(mask: mask) }
  }

  func testL2NormalizedHasUnitRowsAndItsGradient() {
    let x = TestData.awayFromZero([3, 5], seed: 3)
    let y = Variable(x).l2Normalized().value
    for r in 0..<3 {
      let norm = (0..<5).reduce(Float(0)) { $0 + y[r, $1] * y[r, $1] }.squareRoot()
      XCTAssertEqual(norm, 1, accuracy: 1e-6)
      XCTAssertEqual(y[r, 0] / y[r, 1], x[r, 0] / x[r, 1], accuracy: 1e-5)
    }
    XCTAssertEqual(Variable(Tensor<Float>.zeros([1, 4])).l2Normalized().value.scalars, [0, 0, 0, 0])
    checkGradients([x]) { $0[0].l2Normalized() }
  }

  func testGeluTanhMatchesItsFormulaAndGradient() {
    let x = TestData.uniform([20], seed: 4, low: -4, high: 4)
    let y = Variable(x).geluTanh().value
    for (v, out) in zip(x.scalars, y.scalars) {
      let v64 = Double(v)
      let expected =
        0.5 * v64 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v64 + 0.044715 * v64 * v64 * v64)))
      XCTAssertEqual(Double(out), expected, accuracy: 1e-6)
    }
    // Close to the exact GELU but not equal to it: a mix-up of the two would show here.
    let difference = y.maxAbsDifference(Variable(x).gelu().value)
    XCTAssertGreaterThan(difference, 1e-5)
    XCTAssertLessThan(difference, 2e-3)
    checkGradients([x]) { $0[0].geluTanh() }
    XCTAssertEqual(Function(.geluTanh).spec.op, "gelu_tanh")
    XCTAssertTrue(try LayerFactory.make(LayerSpec(op: "gelu_tanh")) is Function)
  }

  func testPoolingAndNormalizationShapeRules() throws {
    XCTAssertEqual(try MeanPooling().outputShape(for: [[2, 7, 16], [2, 7]]), [2, 16])
    XCTAssertThrowsError(try MeanPooling().outputShape(for: [[2, 7, 16], [2, 6]]))
    XCTAssertThrowsError(try MeanPooling().outputShape(for: [[2, 16], [2, 16]]))
    XCTAssertThrowsError(try MeanPooling().outputShape(for: [[2, 7, 16]]))
    XCTAssertEqual(try L2Normalization().outputShape(for: [[2, 16]]), [2, 16])
    XCTAssertThrowsError(try L2Normalization().outputShape(for: [[]]))
    XCTAssertTrue(try LayerFactory.make(MeanPooling().spec) is MeanPooling)
    XCTAssertTrue(try LayerFactory.make(L2Normalization().spec) is L2Normalization)
  }

  static let config = TransformerConfig(
    vocabulary: 50, positions: 12, width: 16, layers: 2, heads: 4, mlpWidth: 24, tiedHead: false, epsilon: 1e-12)

  func testEncoderEmbeddingsAreUnitLengthAndIgnorePadding() {
    let model = Transformer.encoder(Self.config, seed: 5)
    XCTAssertEqual(model.extraInputs.map(\.name), ["attention_mask"])
    XCTAssertEqual(model.inputSourceName, "input_ids")
    XCTAssertFalse(model.isLanguageModel)
    let ids = Tensor<Float>(shape: [2, 6], scalars: [3, 14, 15, 9, 2, 6, 3, 14, 15, 0, 0, 0])
    let mask = Tensor<Float>(shape: [2, 6], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
    let y = model.predict(feeds: [ids, mask])[0]
    XCTAssertEqual(y.shape, [2, 16])
    for r in 0..<2 {
      XCTAssertEqual((0..<16).reduce(Float(0)) { $0 + y[r, $1] * y[r, $1] }, 1, accuracy: 1e-5)
    }
    // The second sentence alone, unpadded, gives the same embedding as padded.
    let alone = model.predict(feeds: [
      Tensor(shape: [1, 3], scalars: [3, 14, 15]), Tensor(shape: [1, 3], scalars: [1, 1, 1]),
    ])[0]
    assertClose(alone, y.sliced(axis: 0, 1..<2), accuracy: 1e-5)
    // Without the mask the padding would count: the mask is wired to attention and pooling.
    let unmasked = model.predict(feeds: [ids.sliced(axis: 0, 1..<2), Tensor(repeating: 1, shape: [1, 6])])[0]
    XCTAssertGreaterThan(unmasked.maxAbsDifference(alone), 1e-3)
  }

  func testEncoderIsPostNorm() {
    // Each block ends in its second LayerNorm, whose output has mean 0 and variance 1 per token
    // before γ and β (1 and 0 at initialisation); a pre-norm block would end in a residual sum.
    let model = Transformer.encoder(Self.config, seed: 6)
    var last: Tensor<Float>?
    var context = ForwardContext.inference
    _ = model.forward(
      feeds: [
        Variable(Tensor(shape: [1, 4], scalars: [1, 2, 3, 4])), Variable(Tensor(repeating: 1, shape: [1, 4])),
      ],
      context: &context
    ) { node, _, output in if node.name == "h1.ln2" { last = output.value } }
    let row = try! XCTUnwrap(last).sliced(axis: 1, 0..<1).scalars
    let mean = row.reduce(0, +) / Float(row.count)
    XCTAssertEqual(mean, 0, accuracy: 1e-5)
    XCTAssertEqual(row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(row.count), 1, accuracy: 1e-3)
  }
}
