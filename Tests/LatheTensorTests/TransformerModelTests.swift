import Foundation
import LatheTensor
import XCTest

/// The GPT graph: its shapes, that it learns, that the cache gives what the full pass gives,
/// that the head is tied, and that its graph survives a copy.
final class TransformerModelTests: XCTestCase {
  static let tiny = TransformerConfig(vocabulary: 11, positions: 16, width: 8, layers: 2, heads: 2, kvHeads: 1)

  func testDecoderShapesAndTiedHead() throws {
    let model = Transformer.decoder(Self.tiny, seed: 1)
    let shapes = try model.checkShapes()
    XCTAssertEqual(shapes["lm_head"], [1, 16, 11])
    XCTAssertEqual(model.transformerConfig, Self.tiny)
    XCTAssertTrue(model.isLanguageModel)
    // One table serves input and output: the head has no parameter of its own.
    XCTAssertEqual(model.namedParameters.filter { $0.name.hasPrefix("lm_head") }.count, 0)
    XCTAssertEqual(model.namedParameters.filter { $0.name == "wte.weight" }.count, 1)
  }

  /// A position's logits must not depend on later tokens (the causal mask), and do depend on
  /// earlier ones.
  func testCausality() {
    let model = Transformer.decoder(Self.tiny, seed: 2)
    let a = Tensor<Float>(shape: [1, 6], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor<Float>(shape: [1, 6], scalars: [1, 2, 3, 9, 9, 9])
    let c = Tensor<Float>(shape: [1, 6], scalars: [7, 2, 3, 4, 5, 6])
    let (ya, yb, yc) = (model.predict(a), model.predict(b), model.predict(c))
    let prefix = 3 * 11
    XCTAssertEqual(Array(ya.scalars[..<prefix]), Array(yb.scalars[..<prefix]))
    XCTAssertNotEqual(Array(ya.scalars[prefix..<(2 * prefix)]), Array(yc.scalars[prefix..<(2 * prefix)]))
  }

  /// Gradients through the whole decoder (both uses of the tied table included) against
  /// finite differences of the loss in the token table and one projection.
  func testDecoderTrainsAndLossFalls() throws {
    let model = Transformer.decoder(Self.tiny, seed: 3)
    // A periodic text: each next token is determined by the current one.
    let ids = (0..<64).map { Float(($0 * 3) % 11) }
    var inputs: [Float] = []
    var next: [Float] = []
    for w in 0..<16 {
      inputs += ids[(w % 8)..<(w % 8 + 8)]
      next += ids[(w % 8 + 1)..<(w % 8 + 9)]
    }
    let data = Dataset(
      name: "cycle", tokens: Tensor(shape: [16, 8], scalars: inputs),
      nextTokens: Tensor(shape: [16, 8], scalars: next),
      vocabulary: 11)
    let before = TextScore.measure(model, on: data)
    let configuration = TrainingConfiguration(
      epochs: 30, batchSize: 8, learningRate: 0.01, optimizer: .adamW(weightDecay: 0), seed: 1)
    let report = Trainer(configuration).train(model, on: data)
    let after = TextScore.measure(model, on: data)
    // The training accuracy of text counts positions (16 windows of 8): a fraction, near the
    // evaluated one once the cycle is learnt.
    let trained = try XCTUnwrap(report.epochs.last?.trainAccuracy)
    XCTAssertGreaterThan(trained, 0.9)
    XCTAssertLessThanOrEqual(trained, 1)
    XCTAssertGreaterThan(before.perplexity, 5)
    XCTAssertLessThan(after.perplexity, 1.5, "a deterministic cycle should be learnt")
    XCTAssertGreaterThan(after.tokenAccuracy, 0.95)
  }

  func testDecoderGradientsAgainstFiniteDifferences() {
    let model = Transformer.decoder(
      TransformerConfig(vocabulary: 5, positions: 4, width: 4, layers: 1, heads: 2, kvHeads: 1), seed: 4)
    let ids = Tensor<Float>(shape: [2, 3], scalars: [0, 3, 1, 4, 2, 2])
    let targets = [3, 1, 0, 2, 2, 4]
    func loss() -> Variable {
      var context = ForwardContext(isTraining: true)
      let logits = model.forward(Variable(ids), context: &context)
      return logits.reshaped([6, 5]).crossEntropy(labels: targets)
    }
    for name in ["wte.weight", "h0.k.weight", "h0.ln1.weight", "wpe.weight"] {
      let parameter = model.parameter(named: name)!
      loss().backpropagate()
      for p in model.trainableParameters { p.collectGradient() }
      let analytical = parameter.grad!.scalars
      let base = parameter.value.scalars
      for j in Swift.stride(from: 0, to: base.count, by: max(1, base.count / 7)) {
        // Small: the embeddings are N(0, 0.02), and a LayerNorm of values that small bends
        // sharply over a step of 1e-2.
        let h: Float = 1e-3
        var plus = base
        plus[j] += h
        parameter.value = Tensor(shape: parameter.shape, scalars: plus)
        let up = GradientRecording.disabled { loss().value.scalar }
        var minus = base
        minus[j] -= h
        parameter.value = Tensor(shape: parameter.shape, scalars: minus)
        let down = GradientRecording.disabled { loss().value.scalar }
        parameter.value = Tensor(shape: parameter.shape, scalars: base)
        let numerical = (up - down) / (2 * h)
        XCTAssertEqual(analytical[j], numerical, accuracy: 3e-3 * max(1, abs(numerical)), "\(name)[\(j)]")
      }
    }
  }

  func testCachedGenerationEqualsFullRecomputation() {
    let model = Transformer.decoder(Self.tiny, seed: 5)
    for temperature: Float in [0, 0.8] {
      let settings = SamplingSettings(temperature: temperature, seed: 9)
      var full = settings
      full.useCache = false
      // 30 tokens from a 5-token prompt run past the 16 positions, so the window slides too.
      let cached = model.generate(prompt: [1, 2, 3, 4, 5], count: 30, settings: settings)
      let recomputed = model.generate(prompt: [1, 2, 3, 4, 5], count: 30, settings: full)
      XCTAssertEqual(cached.count, 30)
      XCTAssertEqual(cached, recomputed, "temperature \(temperature)")
      XCTAssertTrue(cached.allSatisfy { (0..<11).contains($0) })
    }
  }

  func testOutOfRangeTokenIsARunFailureNamingIt() {
    let model = Transformer.decoder(Self.tiny, seed: 6)
    let ids = Tensor<Float>(shape: [1, 3], scalars: [1, 11, 2])
    XCTAssertThrowsError(try model.checkedPredict(feeds: [ids])) { error in
      XCTAssertTrue("\(error)".contains("token id 11.0 is not a whole number in 0..<11"), "\(error)")
    }
    let long = Tensor<Float>(shape: [1, 17], scalars: [Float](repeating: 1, count: 17))
    XCTAssertThrowsError(try model.checkedPredict(feeds: [long])) { error in
      XCTAssertTrue("\(error)".contains("positions 0..<17 run past the 16 the model has"), "\(error)")
    }
  }

  func testCopyIsIndependentAndKeepsTheGraph() {
    let model = Transformer.decoder(Self.tiny, seed: 7)
    let copy = model.copy()
    let ids = Tensor<Float>(shape: [1, 4], scalars: [1, 2, 3, 4])
    XCTAssertEqual(copy.predict(ids).scalars, model.predict(ids).scalars)
    copy.parameter(named: "h0.q.weight")!.value = .zeros([8, 8])
    XCTAssertNotEqual(copy.predict(ids).scalars, model.predict(ids).scalars)
    XCTAssertEqual(copy.transformerConfig, Self.tiny)
  }
}
