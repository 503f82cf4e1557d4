import LatheCompress
import LatheTensor
import XCTest

/// SmoothQuant leaves the model's function alone, and makes int8 quantization of a model with
/// activation outliers closer to the float model.
final class SmoothQuantTests: XCTestCase {
  /// A small GPT whose first norm of every block puts out one channel 40x larger than the rest,
  /// as LLMs' outlier features do (Dettmers et al. 2022).
  static func modelWithOutliers() -> Model {
    let model = Transformer.decoder(
      TransformerConfig(vocabulary: 32, positions: 16, width: 32, layers: 2, heads: 4), seed: 11)
    for node in model.nodes where node.name.hasSuffix("ln1") || node.name.hasSuffix("ln2") {
      let norm = node.layer as! Normalization
      var gamma = norm.gamma.value.scalars
      gamma[5] = 40
      norm.gamma.value = Tensor(shape: [32], scalars: gamma)
    }
    return model
  }

  static func text(_ count: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    let ids = (0..<(count * 17)).map { _ in Float(Int(g.nextUniform() * 32) % 32) }
    let (inputs, next) = (0..<count).reduce(into: ([Float](), [Float]())) { acc, w in
      acc.0 += ids[(w * 17)..<(w * 17 + 16)]
      acc.1 += ids[(w * 17 + 1)..<(w * 17 + 17)]
    }
    return Dataset(
      name: "random", tokens: Tensor(shape: [count, 16], scalars: inputs),
      nextTokens: Tensor(shape: [count, 16], scalars: next), vocabulary: 32)
  }

  func testSmoothingKeepsTheFunctionAndFoldsIntoTheNorms() throws {
    let model = Self.modelWithOutliers()
    let data = DatasetSplit(train: Self.text(24, seed: 1), test: Self.text(8, seed: 2))
    let ctx = context(data)
    let smoothed = try SmoothQuant(SmoothQuantConfig(alpha: 0.5)).applied(to: model, context: ctx)
    // Both norms of both blocks feed only Linear layers.
    XCTAssertEqual(ctx.findings.smoothedNorms, 4)
    XCTAssertGreaterThan(ctx.findings.activationSpreadReduction ?? 0, 3)
    let before = model.predict(data.test.inputs)
    let after = smoothed.predict(data.test.inputs)
    XCTAssertLessThan(after.maxAbsDifference(before), 1e-3 * max(1, before.scalars.map(abs).max()!))
    // The outlier now lives in the weights: h0.ln1's channel 5 has shrunk.
    let gamma = (smoothed.nodes.first { $0.name == "h0.ln1" }!.layer as! Normalization).gamma.value.scalars
    XCTAssertLessThan(abs(gamma[5]), 40)
  }

  func testSmoothingBeforeInt8ReducesTheDivergenceFromFloat() throws {
    let model = Self.modelWithOutliers()
    let data = DatasetSplit(train: Self.text(32, seed: 3), test: Self.text(16, seed: 4))
    let quantize = Int8Quantize(Int8QuantizeConfig(speedCheck: false))
    let naive = try quantize.applied(to: model, context: context(data))
    let smoothed = try SmoothQuant(SmoothQuantConfig(alpha: 0.5)).applied(to: model, context: context(data))
    let smoothInt8 = try quantize.applied(to: smoothed, context: context(data))
    let naiveKL = try ModelComparison.compare(naive, with: model, on: data.test)[0].meanKL
    let smoothKL = try ModelComparison.compare(smoothInt8, with: model, on: data.test)[0].meanKL
    XCTAssertLessThan(smoothKL, naiveKL / 2, "naive W8A8 KL \(naiveKL), smoothed \(smoothKL)")
  }

  func testAModelWithoutNormsFeedingLinearsIsAnError() throws {
    let model = Architecture.digitsMLP.build()
    let data = DatasetSplit(
      train: Dataset(name: "x", inputs: .zeros([2, 1, 8, 8]), labels: [0, 1], classCount: 10),
      test: Dataset(name: "x", inputs: .zeros([2, 1, 8, 8]), labels: [0, 1], classCount: 10))
    XCTAssertThrowsError(try SmoothQuant(SmoothQuantConfig()).applied(to: model, context: context(data))) { error in
      XCTAssertTrue("\(error)".contains("no LayerNorm or RMSNorm"), "\(error)")
    }
  }
}

/// `from: input` starts a step from the pipeline's model, not the step before.
final class StepStartTests: XCTestCase {
  func testFromInputBranchesAndABadValueIsNamed() throws {
    let text = """
      name: branch
      model: m
      dataset: d
      steps:
        - name: first
          technique: weight-only
          bits: 8
          speed_check: false
        - name: second
          technique: weight-only
          from: input
          bits: 4
          speed_check: false
      """
    let spec = try PipelineSpec.parse(text, file: "branch.yaml")
    XCTAssertFalse(spec.steps[0].startsFromInput)
    XCTAssertTrue(spec.steps[1].startsFromInput)
    let model = SmoothQuantTests.modelWithOutliers()
    let data = DatasetSplit(train: SmoothQuantTests.text(8, seed: 1), test: SmoothQuantTests.text(4, seed: 2))
    let runner = try PipelineRunner(
      spec: spec, model: model, data: data, outputDirectory: try temporaryDirectory(self), loadModel: { _ in model })
    let metrics = try runner.runAll()
    // The second step quantized the fp32 model to int4: every matrix at 4 bits (not 8 then 4).
    let second = runner.snapshots[2].model
    for node in second.nodes where node.layer is WeightOnlyLinear {
      XCTAssertEqual((node.layer as! WeightOnlyLinear).weights.bits, 4, node.name)
    }
    XCTAssertLessThan(metrics[2].sizeBytes, metrics[1].sizeBytes)
    XCTAssertNotNil(metrics[2].extra["perplexity"])

    // From a named earlier step: the third starts from "first"'s int8 model, not from int4.
    let named =
      text + """

          - name: third
            technique: weight-only
            from: first
            bits: 4
            speed_check: false
        """
    let namedRunner = try PipelineRunner(
      spec: try PipelineSpec.parse(named, file: "named.yaml"), model: model, data: data,
      outputDirectory: try temporaryDirectory(self), loadModel: { _ in model })
    XCTAssertEqual(try namedRunner.startSnapshot(of: 2), 1)
    XCTAssertEqual(try namedRunner.startSnapshot(of: 1), 0)
    XCTAssertEqual(try namedRunner.startSnapshot(of: 0), 0)

    // A name that is no earlier step fails before anything runs, naming the file and key.
    let bad = text.replacingOccurrences(of: "from: input", with: "from: later")
    XCTAssertThrowsError(
      try PipelineRunner(
        spec: try PipelineSpec.parse(bad, file: "bad.yaml"), model: model, data: data,
        outputDirectory: try temporaryDirectory(self), loadModel: { _ in model })
    ) { error in
      XCTAssertTrue("\(error)".contains("branch:11: from:"), "\(error)")
      XCTAssertTrue("\(error)".contains("no earlier step is named \"later\""), "\(error)")
    }
  }
}
