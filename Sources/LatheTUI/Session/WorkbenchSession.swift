import LatheCompress

/// What the workbench screens talk to. The compression engine implements it; the screens only
/// read snapshots and send commands, so a step that trains for minutes never blocks drawing.
///
/// Threading: every member is called from the UI thread. Commands return at once and start
/// work on the engine's own background threads; progress shows up in later `state` reads.
/// `state` must be cheap (the UI reads it up to ~20 times a second), so an implementation keeps
/// a `WorkbenchState` behind a lock and hands out copies.
public protocol WorkbenchSession: AnyObject {
  /// Everything the screens draw, as one consistent copy. Bump `revision` whenever any part
  /// changes; the UI skips redrawing while it stays the same.
  var state: WorkbenchState { get }

  /// The techniques the step editor offers, with their parameters and defaults.
  var techniques: [TechniqueDescriptor] { get }

  /// The whole pipeline as editable specs, in order, one per `state.steps` entry.
  var pipeline: [StepSpec] { get }

  /// Snapshots taken after each done step (the first is the model as opened), for Compare.
  var snapshots: [SnapshotSummary] { get }

  /// Starts the first pending step in the background. Ignored while busy.
  func runNextStep()

  /// Runs every pending step in order, in the background. Ignored while busy.
  func runRemainingSteps()

  /// Asks the running step to stop at its next safe point; it ends as `.failed("cancelled")`
  /// or back to `.pending`, the implementation's choice.
  func cancel()

  /// Restores the model to the snapshot before the last done step; that step becomes pending.
  func undo()

  /// Weights of one layer now and before the last step that changed them, for the layer
  /// detail screen. Called when the screen opens, not every frame; nil when the layer has no weights.
  func layerDetail(named name: String) -> LayerDetail?

  /// Loads a model (`.safetensors` / `.onnx` path), a dataset (catalog name or path) and
  /// optionally a saved pipeline, replacing the current session contents.
  func open(model: String, dataset: String?, pipeline: String?) throws

  /// Replaces the whole pipeline (the step editor saves this way). Done steps whose spec is
  /// unchanged at the same position keep their results; the first changed step and all after
  /// it become pending. Throws when a spec names an unknown technique or a value is invalid.
  func replaceSteps(_ steps: [StepSpec]) throws

  /// Writes the pipeline to a file the engine can read back with `open(..., pipeline:)`,
  /// keeping the comments and layout of the file it was opened from where steps are unchanged.
  func savePipeline(to path: String) throws

  /// Writes the current model (the last done step's) to `path`: ONNX when the name ends in
  /// `.onnx`, else a Lathe safetensors file.
  func saveModel(to path: String) throws

  /// Ends the session before the terminal is restored: cancels the running step and waits for
  /// the engine to let go of it, stops a study and its worker processes, and removes the
  /// session folder unless `keepingFolder`. Nothing of the session may run after it returns;
  /// a second call does nothing more.
  func shutdown(keepingFolder: Bool)

  // MARK: search

  /// Search pipelines (files with ranges and a `search:` section) the Search screen offers:
  /// names of bundled ones, or paths. Read when the screen opens, not every frame (it may read files).
  var searchPipelines: [String] { get }

  /// Starts a study in the background: trials run as `lathe run` worker processes and show up
  /// in `state.search` as they finish. Throws when the pipeline cannot be searched or a study
  /// is still running.
  func startSearch(_ request: SearchRequest) throws

  /// Takes no new trials; running ones finish and stay in the journal.
  func cancelSearch()

  /// Opens a complete trial's final model with its pipeline (the searched pipeline with the
  /// trial's values in place of the ranges), replacing the session's model and pipeline.
  func loadTrial(_ number: Int) throws

  /// Writes a complete trial's pipeline (as `loadTrial` opens it) to `path`, a file `lathe run`
  /// runs; the session's model and pipeline stay as they are.
  func saveTrialPipeline(_ number: Int, to path: String) throws

  // MARK: language models

  /// `prompt` continued by `count` tokens, greedily, by the model as opened and then by each
  /// done step's model, in order (the Prompt screen); throws, saying why, for a model that is
  /// not a language model or whose tokens are not bytes.
  func continuations(of prompt: String, count: Int) throws -> [Continuation]
}

/// What one snapshot of a language model wrote after a prompt.
public struct Continuation: Sendable, Equatable {
  /// "original", or the step's name.
  public var name: String
  public var text: String
  /// The snapshot's perplexity on the test text, when measured.
  public var perplexity: Double?

  public init(name: String, text: String, perplexity: Double?) {
    (self.name, self.text, self.perplexity) = (name, text, perplexity)
  }
}

extension WorkbenchSession {
  /// Sessions without studies (the frame benchmark's) have no trial to write.
  public func saveTrialPipeline(_ number: Int, to path: String) throws {
    throw SessionError("this session runs no studies")
  }

  /// Sessions that hold no models (the frame benchmark's, tests' fakes) generate nothing.
  public func continuations(of prompt: String, count: Int) throws -> [Continuation] {
    throw SessionError("this session holds no models to generate with")
  }
}

/// One copy of all the numbers the workbench draws.
public struct WorkbenchState: Sendable, Equatable {
  /// Increases on every change; equal revisions mean equal states.
  public var revision: Int
  /// The open model, or nil before anything is opened.
  public var model: ModelSummary?
  /// Metrics of the model as opened, before any step; the first point of every chart.
  public var baseline: StepMetrics?
  /// The pipeline, in order.
  public var steps: [StepRow]
  /// Curves of the step that is training now (or trained last); nil when none trains.
  public var training: TrainingCurve?
  /// Recent messages, oldest first; the status line shows the last one.
  public var log: [LogLine]
  /// True while a step runs in the background.
  public var isBusy: Bool
  /// The study started from the Search screen (running or ended); nil before the first.
  public var search: SearchState?
  /// The folder that holds this session's step models and studies, removed on exit (the status
  /// line names it); nil when the session writes no files.
  public var sessionFolder: String?
  /// What quitting now would lose, e.g. "2 step models", "the edited pipeline"; empty when
  /// everything is saved.
  public var unsaved: [String]
  /// Where saving the pipeline goes unless the user types another path: the file it was opened
  /// from, or only that file's name for a bundled one (written to the working folder); nil when
  /// the pipeline was made in the workbench.
  public var pipelineFile: String?

  public init(
    revision: Int = 0, model: ModelSummary? = nil, baseline: StepMetrics? = nil, steps: [StepRow] = [],
    training: TrainingCurve? = nil, log: [LogLine] = [], isBusy: Bool = false, search: SearchState? = nil,
    sessionFolder: String? = nil, unsaved: [String] = [], pipelineFile: String? = nil
  ) {
    self.pipelineFile = pipelineFile
    self.sessionFolder = sessionFolder
    self.unsaved = unsaved
    self.revision = revision
    self.model = model
    self.baseline = baseline
    self.steps = steps
    self.training = training
    self.log = log
    self.isBusy = isBusy
    self.search = search
  }
}

/// A message for the status line and log.
public struct LogLine: Sendable, Equatable {
  public enum Level: Sendable, Equatable { case info, warning, error }
  public var level: Level
  public var text: String
  public init(_ level: Level, _ text: String) {
    self.level = level
    self.text = text
  }
}

/// The model on the workbench.
public struct ModelSummary: Sendable, Equatable {
  public var name: String
  /// Where it was loaded from.
  public var path: String
  /// The dataset it is evaluated on (catalog name or path).
  public var dataset: String
  public var layers: [LayerRow]
  /// Sums over `layers` (parameters, nonzeros, bytes) and the model's own metrics.
  public var totals: ModelTotals

  public init(name: String, path: String, dataset: String, layers: [LayerRow], totals: ModelTotals) {
    self.name = name
    self.path = path
    self.dataset = dataset
    self.layers = layers
    self.totals = totals
  }
}

/// Model-wide sums for the totals row.
public struct ModelTotals: Sendable, Equatable {
  public var parameters: Int
  public var nonzeros: Int
  public var bytes: Int
  /// Test accuracy 0...1 of the current model, when measured.
  public var accuracy: Double?

  public init(parameters: Int, nonzeros: Int, bytes: Int, accuracy: Double? = nil) {
    self.parameters = parameters
    self.nonzeros = nonzeros
    self.bytes = bytes
    self.accuracy = accuracy
  }

  /// Fraction of parameters that are zero.
  public var sparsity: Double { parameters == 0 ? 0 : 1 - Double(nonzeros) / Double(parameters) }
}

/// One row of the Model panel's layer table.
public struct LayerRow: Sendable, Equatable {
  public var name: String
  /// Operation, e.g. "conv2d", "linear", "relu".
  public var op: String
  /// Output shape for a batch of one (`Model.outputShapes`), e.g. [1, 6, 28, 28] for a conv2d;
  /// not the weight shape.
  public var shape: [Int]
  public var parameters: Int
  /// Fraction of weights that are zero, 0...1.
  public var sparsity: Double
  /// Bits per stored weight (32 for float, 8 or 4 after quantization).
  public var bits: Double
  /// Bytes the layer takes in the compressed model.
  public var bytes: Int
  /// The kernel that runs it, e.g. "gemm-f32", "sparse-csr", "int8".
  public var kernel: String
  /// The values it reads, in order: earlier layers' names, or the model's inputs ("input" and
  /// any extra input names). The graph view walks these; a layer's readers are the rows that
  /// name it here.
  public var inputs: [String]
  /// This layer's share 0...1 of the model's run time at batch 1: its own forward timed on the
  /// inputs a real pass gives it, over the sum of every layer's. Nil until measured.
  public var latencyShare: Double?
  /// How far this layer's output has moved from the same layer's output in the model as
  /// opened, on the same example: signal-to-noise ratio in dB (higher is closer; infinity when
  /// equal). Nil before a step, and for layers the original lacks or whose shape changed.
  public var outputSQNR: Double?
  /// An activation a compression step folded into this layer's kernel (its node left the
  /// graph), e.g. "relu"; nil when none.
  public var foldedActivation: String?

  public init(
    name: String, op: String, shape: [Int], parameters: Int, sparsity: Double, bits: Double, bytes: Int,
    kernel: String, inputs: [String] = [], latencyShare: Double? = nil, outputSQNR: Double? = nil,
    foldedActivation: String? = nil
  ) {
    self.name = name
    self.op = op
    self.shape = shape
    self.parameters = parameters
    self.sparsity = sparsity
    self.bits = bits
    self.bytes = bytes
    self.kernel = kernel
    self.inputs = inputs
    self.latencyShare = latencyShare
    self.outputSQNR = outputSQNR
    self.foldedActivation = foldedActivation
  }

  /// The op as the table shows it, with a folded activation after a "+": "linear+relu".
  public var displayOp: String { foldedActivation.map { "\(op)+\($0)" } ?? op }
}

/// One step of the pipeline as the Pipeline panel shows it.
public struct StepRow: Sendable, Equatable {
  public enum State: Sendable, Equatable {
    case pending
    /// Running; the row's `progress` says how far.
    case running
    case done
    /// Failed or cancelled, with the reason.
    case failed(String)
  }

  public var name: String
  public var technique: String
  public var state: State
  /// 0...1 while running.
  public var progress: Double
  /// What the step is doing now ("epoch 2/5", "calibrating").
  public var message: String
  /// Filled in when the step is done.
  public var metrics: StepMetrics?

  public init(
    name: String, technique: String, state: State, progress: Double = 0, message: String = "",
    metrics: StepMetrics? = nil
  ) {
    self.name = name
    self.technique = technique
    self.state = state
    self.progress = progress
    self.message = message
    self.metrics = metrics
  }
}

/// Live curves of a training (fine-tuning) step.
public struct TrainingCurve: Sendable, Equatable {
  public struct Point: Sendable, Equatable {
    /// Optimizer step (batch) number since the start of training.
    public var step: Int
    public var loss: Double
    /// Accuracy 0...1 (on the batch or a validation slice); nil when not measured at this point.
    public var accuracy: Double?
    public init(step: Int, loss: Double, accuracy: Double? = nil) {
      self.step = step
      self.loss = loss
      self.accuracy = accuracy
    }
  }

  /// Name of the step that trains.
  public var stepName: String
  public var points: [Point]
  public var epoch: Int
  public var epochs: Int
  public var batch: Int
  public var batchesPerEpoch: Int
  /// Estimated seconds left; nil until it can be estimated.
  public var etaSeconds: Double?

  public init(
    stepName: String, points: [Point], epoch: Int, epochs: Int, batch: Int, batchesPerEpoch: Int,
    etaSeconds: Double?
  ) {
    self.stepName = stepName
    self.points = points
    self.epoch = epoch
    self.epochs = epochs
    self.batch = batch
    self.batchesPerEpoch = batchesPerEpoch
    self.etaSeconds = etaSeconds
  }

  /// Fraction of all batches done, 0...1.
  public var progress: Double {
    let total = epochs * batchesPerEpoch
    guard total > 0 else { return 0 }
    return min(1, max(0, Double((epoch - 1) * batchesPerEpoch + batch) / Double(total)))
  }
}

/// The weights of one layer, summarised for the layer detail screen.
public struct LayerDetail: Sendable, Equatable {
  public var name: String
  /// The step whose change `histogramBefore` shows: the last one that changed this layer's
  /// weights (a later quantize step may leave a pruned layer alone); nil when no step has
  /// changed them, and "before" is the model as opened.
  public var changedBy: String?
  /// Histogram of weight values before `changedBy` and now, over the same `range`.
  public var histogramBefore: [Int]
  public var histogramAfter: [Int]
  /// Value range the histogram bins cover.
  public var range: ClosedRange<Double>
  /// The weight matrix (rows = output channels) downsampled to a small grid: each entry is the
  /// fraction of nonzeros 0...1 in its block. Row-major, `sparsityRows` x `sparsityColumns`.
  public var sparsityMap: [Double]
  public var sparsityRows: Int
  public var sparsityColumns: Int
  /// Minimum and maximum weight per output channel.
  public var channelMin: [Double]
  public var channelMax: [Double]
  /// Quantization error of the current weights against the before-step weights, nil when the
  /// layer's weights are not stored quantized (fp32, pruned or not).
  public var quantizationError: QuantizationError?

  public init(
    name: String, histogramBefore: [Int], histogramAfter: [Int], range: ClosedRange<Double>,
    sparsityMap: [Double], sparsityRows: Int, sparsityColumns: Int, channelMin: [Double],
    channelMax: [Double], quantizationError: QuantizationError?, changedBy: String? = nil
  ) {
    self.name = name
    self.changedBy = changedBy
    self.histogramBefore = histogramBefore
    self.histogramAfter = histogramAfter
    self.range = range
    self.sparsityMap = sparsityMap
    self.sparsityRows = sparsityRows
    self.sparsityColumns = sparsityColumns
    self.channelMin = channelMin
    self.channelMax = channelMax
    self.quantizationError = quantizationError
  }
}

/// How far quantized weights are from the originals.
public struct QuantizationError: Sendable, Equatable {
  public var meanSquared: Double
  public var maxAbsolute: Double
  /// Signal-to-quantization-noise ratio in dB.
  public var sqnrDecibels: Double
  public init(meanSquared: Double, maxAbsolute: Double, sqnrDecibels: Double) {
    self.meanSquared = meanSquared
    self.maxAbsolute = maxAbsolute
    self.sqnrDecibels = sqnrDecibels
  }
}

/// The model as it was after one step, for Compare.
public struct SnapshotSummary: Sendable, Equatable {
  /// "original" for the model as opened, else the step's name.
  public var name: String
  public var metrics: StepMetrics?
  public var layers: [LayerRow]
  public init(name: String, metrics: StepMetrics?, layers: [LayerRow]) {
    self.name = name
    self.metrics = metrics
    self.layers = layers
  }
}
