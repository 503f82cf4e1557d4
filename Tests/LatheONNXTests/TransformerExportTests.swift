import Foundation
import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

/// A GPT (grouped-query attention, RMSNorm or LayerNorm, SiLU or GELU, tied head) exports to
/// ONNX, and the file imported back computes the same logits at any sequence length.
final class TransformerExportTests: XCTestCase {
  func testDecoderExportsAndImportsBackWithTheSameLogits() throws {
    for (norm, activation) in [(Normalization.Kind.layer, TransformerConfig.Activation.gelu), (.rms, .silu)] {
      let config = TransformerConfig(
        vocabulary: 19, positions: 32, width: 16, layers: 2, heads: 4, kvHeads: 2, norm: norm, activation: activation)
      let model = Transformer.decoder(config, seed: 3)
      let proto = try ONNXExporter.proto(model)
      XCTAssertEqual(proto.opsetImport.first?.version, 23, "Attention is an opset-23 operator")
      XCTAssertTrue(proto.graph.node.contains { $0.opType == "Attention" })
      // The sequence length stays open (the importer probes it at 16 and 24: positions must reach that).
      XCTAssertEqual(proto.graph.input[0].type.tensorType.shape.dim[1].dimParam, "size1")
      let imported = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
      for length in [5, 32] {
        var g = SeededGenerator(seed: UInt64(length))
        let ids = Tensor<Float>(
          shape: [2, length], scalars: (0..<(2 * length)).map { _ in Float(Int(g.nextUniform() * 19) % 19) })
        let expected = model.predict(ids)
        let got = imported.predict(ids)
        XCTAssertEqual(got.shape, expected.shape)
        XCTAssertLessThan(got.maxAbsDifference(expected), 1e-4, "\(norm) \(activation) length \(length)")
      }
    }
  }

  /// A BERT-style encoder with its attention mask input and sentence-embedding head: the file
  /// has both inputs, and imported back gives the same unit-length embeddings, padding ignored.
  func testEncoderExportsWithItsMaskAndPooling() throws {
    let config = TransformerConfig(
      vocabulary: 30, positions: 32, width: 16, layers: 2, heads: 4, mlpWidth: 32, tiedHead: false, epsilon: 1e-12)
    let model = Transformer.encoder(config, seed: 8)
    let proto = try ONNXExporter.proto(model)
    XCTAssertEqual(proto.graph.input.map(\.name), ["input", "attention_mask"])
    let imported = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
    let ids = Tensor<Float>(shape: [2, 6], scalars: [3, 14, 15, 9, 2, 6, 3, 14, 15, 0, 0, 0])
    let mask = Tensor<Float>(shape: [2, 6], scalars: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
    let expected = model.predict(feeds: [ids, mask])[0]
    let got = imported.predict(feeds: [ids, mask])[0]
    XCTAssertEqual(got.shape, [2, 16])
    XCTAssertLessThan(got.maxAbsDifference(expected), 1e-5)
  }
}
