import Foundation
import LatheIO
import LatheTensor

/// The numbers a user watches after every step, all measured on the saved file loaded back.
public struct StepMetrics: Codable, Sendable, Equatable {
  /// Latency at batch 1 and at a larger batch, timed on the test split's own examples.
  public struct Latency: Codable, Sendable, Equatable {
    public var batch1P50: Double
    public var batch1P95: Double
    /// The larger batch's median and 95th percentile, timed at `largeBatch` (the names are
    /// from when that was always 256; results files and studies read them under these names).
    public var batch256P50: Double
    public var batch256P95: Double
    /// The larger batch: 256 unless one pass of that was over the time budget
    /// (`LatencyPlan`); 1 when only batch 1 was affordable. nil in results from before the
    /// batch was chosen, which were all timed at 256.
    public var batch: Int?

    /// The batch `batch256P50` was timed at.
    public var largeBatch: Int { batch ?? 256 }

    public init(batch1P50: Double, batch1P95: Double, batch256P50: Double, batch256P95: Double, batch: Int? = nil) {
      self.batch1P50 = batch1P50
      self.batch1P95 = batch1P95
      self.batch256P50 = batch256P50
      self.batch256P95 = batch256P95
      self.batch = batch
    }
  }

  public var name: String
  public var technique: String
  /// Top-1 accuracy on the test split, 0...1; for a language model on text, the share of
  /// positions whose most likely next token is right (its perplexity is in `extra`); for a
  /// sequence model on data with label sequences,
  /// the share of examples CTC decoding reads exactly (its character error rate is in `extra`);
  /// for another model that is not a classifier, or data without labels, top-1 agreement with
  /// the pipeline's input model (`scoredAgainst`).
  public var accuracy: Double
  /// nil when `accuracy` is against the labels; "input model" when it is top-1 agreement with
  /// the pipeline's input model (over the last axis, per position), which needs no labels.
  public var scoredAgainst: String?

  /// What `accuracy` is, for messages: "accuracy", or "agreement with the input model".
  public var scoreName: String { scoredAgainst.map { "agreement with the \($0)" } ?? "accuracy" }
  /// Bytes of the saved model file.
  public var sizeBytes: Int
  /// Size of the pipeline's input model file divided by this one.
  public var compressionRatio: Double
  public var parameters: Int
  public var nonzeros: Int
  /// Stored bits per parameter (weights and biases).
  public var bitsPerWeight: Double
  /// Forward-pass latency in microseconds.
  public var latencyUs: Latency
  /// Time the step itself took (not the measuring).
  public var wallSeconds: Double
  public var modelPath: String
  /// Step-specific findings (e.g. the same student trained alone).
  public var extra: [String: Double]

  public init(
    name: String, technique: String, accuracy: Double, sizeBytes: Int, compressionRatio: Double, parameters: Int,
    nonzeros: Int, bitsPerWeight: Double, latencyUs: Latency, wallSeconds: Double, modelPath: String,
    extra: [String: Double] = [:]
  ) {
    self.name = name
    self.technique = technique
    self.accuracy = accuracy
    self.sizeBytes = sizeBytes
    self.compressionRatio = compressionRatio
    self.parameters = parameters
    self.nonzeros = nonzeros
    self.bitsPerWeight = bitsPerWeight
    self.latencyUs = latencyUs
    self.wallSeconds = wallSeconds
    self.modelPath = modelPath
    self.extra = extra
  }
}

/// Saves a model in its deployed form, loads the file back and measures it.
public enum ModelMeasurement {
  public struct Options: Sendable {
    /// Seconds spent timing each batch size (more is steadier).
    public var latencySeconds: Double {
      get { latency.seconds }
      set { latency.seconds = newValue }
    }
    /// How latency is timed: the batches and the time budget.
    public var latency: LatencyPlan
    /// Builders for the layers a step's model file may hold (imported ONNX layers need theirs).
    public var builders: [LayerBuilding]
    public init(latencySeconds: Double = 0.3, builders: [LayerBuilding] = CompressedLayers.builders) {
      self.latency = LatencyPlan(seconds: latencySeconds)
      self.builders = builders
    }
  }

  /// Writes `model` to `path` and returns the metrics of the file's model (and that model).
  /// Latency is timed on `test`'s examples, the larger batch at `latencyBatch` (chosen within
  /// the time budget when nil). With a `reference`, the file's model is compared with it on
  /// `test` once (`OutputComparison`, first output): `extra` gets `agreement_with_input`,
  /// `mean_kl_with_input`, `p99_kl_with_input`, `sqnr_db_with_input` and `cosine_with_input`
  /// (what an embedding model is judged by), and a model without
  /// labels to score is scored by that agreement.
  public static func measure(
    _ model: Model, name: String, technique: String, test: Dataset, path: URL, originalSize: Int?, wallSeconds: Double,
    options: Options = Options(), reference: Model? = nil, latencyBatch: Int? = nil
  ) throws -> (StepMetrics, Model) {
    try ModelFile.save(Deployment.inferenceModel(model), to: path)
    let size = path.fileSizeOnDisk
    let loaded = try ModelFile.load(from: path, builders: options.builders)
    // A transfer step's model scores other classes than the input model: no comparison.
    let comparison = reference.flatMap { try? ModelComparison.compare(loaded, with: $0, on: test).first }
    let score = try score(loaded, on: test, reference: reference, comparison: comparison)
    // Scoring ran the test inputs through the model; a timing batch can still meet a node that
    // does not fit them, which fails the step rather than the program.
    let (one, many) = try RunFailure.checking(file: loaded.sourceFile) {
      options.latency.measure(loaded, on: test, batch: latencyBatch)
    }
    let stats = loaded.statistics
    let metrics = StepMetrics(
      name: name, technique: technique, accuracy: Double(score.accuracy), sizeBytes: size,
      compressionRatio: Double(originalSize ?? size) / Double(max(size, 1)), parameters: stats.parameters,
      nonzeros: stats.nonzeros, bitsPerWeight: stats.bitsPerParameter,
      latencyUs: .init(
        batch1P50: one.p50Microseconds, batch1P95: one.p95Microseconds, batch256P50: many.p50Microseconds,
        batch256P95: many.p95Microseconds, batch: many.batchSize),
      wallSeconds: wallSeconds, modelPath: path.path,
      extra: (comparison.map(comparisonExtra) ?? [:]).merging(score.extra) { $1 })
    var scored = metrics
    scored.scoredAgainst = score.scoredAgainst
    return (scored, loaded)
  }

  /// The `extra` keys of a comparison with the pipeline's input model.
  public static func comparisonExtra(_ c: OutputComparison.Result) -> [String: Double] {
    [
      "agreement_with_input": c.agreement, "mean_kl_with_input": c.meanKL, "p99_kl_with_input": c.p99KL,
      "sqnr_db_with_input": c.sqnrDB, "cosine_with_input": c.cosine,
    ]
  }

  /// What a step's model scored and how.
  struct Score {
    var accuracy: Float
    /// nil when scored against the data's labels (`StepMetrics.scoredAgainst`).
    var scoredAgainst: String?
    /// Scores beside `accuracy` (`character_error_rate` for a CTC model).
    var extra: [String: Double] = [:]
  }

  /// Top-1 accuracy for a classifier on labelled data; for a language model on text windows,
  /// next-token accuracy with `perplexity` and `nll_per_token` in `extra`; for a sequence model's [N, T, classes]
  /// scores on data with label sequences, the exact-match rate of greedy CTC decoding, with its
  /// character error rate in `extra`; otherwise top-1 agreement with `reference` (1 for the
  /// input model itself, which is its own reference).
  static func score(
    _ model: Model, on test: Dataset, reference: Model?, comparison: OutputComparison.Result?
  ) throws -> Score {
    // Checked runs: a node the test inputs do not fit fails the step with its message.
    let file = model.sourceFile
    // At the data's first example, every input of it (a mask as long as its ids).
    let shapes = try RunFailure.checking(file: file) {
      model.canRun(on: test) ? model.outputShapes(feeds: model.feeds(test, 0..<1)) : model.outputShapes()
    }
    let outputRank = shapes[model.nodes.last?.name ?? ""]?.count
    if test.nextTokens != nil, outputRank == 3 {
      let text = try RunFailure.checking(file: file) { TextScore.measure(model, on: test) }
      return Score(
        accuracy: Float(text.tokenAccuracy), extra: ["perplexity": text.perplexity, "nll_per_token": text.meanNLL])
    }
    if test.isLabelled, outputRank == 2 {
      return Score(accuracy: try RunFailure.checking(file: file) { Evaluator.accuracy(of: model, on: test) })
    }
    if let expected = test.sequenceLabels, outputRank == 3 {
      var sequences = SequenceScore()
      try ModelOutputs.forEachBatch(of: [model], data: test) { range, outputs in
        let decoded = try CTCDecoding.greedy(outputs[0][0], blank: test.ctcBlank)
        try sequences.add(decoded: decoded, expected: Array(expected[range]))
      }
      return Score(
        accuracy: Float(sequences.exactMatchRate), extra: ["character_error_rate": sequences.characterErrorRate])
    }
    guard let reference, test.count > 0 else { return Score(accuracy: 1, scoredAgainst: "input model") }
    // Compared again only to throw the reason the comparison failed.
    let agreement =
      try comparison?.agreement ?? ModelComparison.compare(model, with: reference, on: test).first?.agreement ?? 0
    return Score(accuracy: Float(agreement), scoredAgainst: "input model")
  }
}
