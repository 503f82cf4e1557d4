import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheSearch
import LatheTensor
import LatheWorkspace

/// The workbench's session on the real engine: a `PipelineRunner` driven on a background
/// queue, its results turned into the snapshots the screens draw. Every number shown comes
/// from running and timing the models; nothing is made up for the screen.
public final class EngineSession: WorkbenchSession, @unchecked Sendable {
  /// Everything the UI reads, guarded by `lock`; the engine queue writes new copies.
  let lock = NSLock()
  var current = WorkbenchState()
  var runner: PipelineRunner?
  /// The runner's snapshots as of its last finished step, for reads on the UI thread (guarded by
  /// `lock`). The runner is not thread-safe and the engine queue appends to its own list while a
  /// step runs: reading that list from the UI thread (the unsaved count on every frame) crashed.
  var finishedSnapshots: [PipelineRunner.Snapshot] = []
  private var summaries: [SnapshotSummary] = []
  /// The model as opened, run once on the measurement feeds, that every step's layer outputs
  /// are compared with; made on the engine queue at the first step (guarded by `lock`).
  private var originalReference: (runner: PipelineRunner, reference: LayerMeasurements.Reference?)?
  private var cancelRequested = false
  private var stepFailures: [Int: String] = [:]
  private let queue = DispatchQueue(label: "lathe.engine")
  private let latencySeconds: Double
  private(set) var sources: (model: String, dataset: String?, pipeline: String?)
  /// The `lathe` binary search trials run in (the running one, unless a test says otherwise).
  let workerBinary: URL
  /// The study the Search screen started last (guarded by `lock`).
  var study: WorkbenchStudy?
  /// The study `watchStudy` reads, running elsewhere (guarded by `lock`).
  var watcher: StudyWatcher?
  /// Holds every file the session writes (step models, studies), one subfolder per open
  /// pipeline or study; removed by `shutdown` unless the user keeps it.
  let folder: ScratchFolder
  /// How many subfolders of `folder` have been handed out (guarded by `lock`).
  private var subfolders = 0
  /// The pipeline file's text and what it parsed to, so a save keeps the user's comments.
  private var pipelineSource: (text: String, spec: PipelineSpec)?
  /// `runner.snapshots.count` when the model was last saved (1: only the model as opened).
  private var savedSnapshots = 1
  /// The pipeline differs from the file it was opened from (or was never saved).
  private var pipelineEdited = false
  /// The example size the layer table's shapes are at: the data's, for a model with open sizes
  /// (whose file's example size is a made-up probe); nil for the model's own.
  /// The data's first example, every input of it: what layer shapes are shown at.
  private var exampleFeeds: [Tensor<Float>]?

  /// Opens `model` (sample name or path) on `dataset` with `pipeline` (bundled name or path)
  /// and starts measuring the input model in the background.
  public init(
    model: String, dataset: String?, pipeline: String?, latencySeconds: Double = 0.15,
    workerBinary: URL = ProcessTrialExecutor.runningBinary()
  ) throws {
    self.latencySeconds = latencySeconds
    self.workerBinary = workerBinary
    sources = (model, dataset, pipeline)
    folder = try ScratchFolder.make(prefix: "lathe-workbench")
    current.sessionFolder = folder.url.path
    do {
      try load(model: model, dataset: dataset, pipeline: pipeline)
    } catch {
      folder.remove()
      throw error
    }
  }

  public var state: WorkbenchState {
    lock.withLock {
      var copy = current
      copy.unsaved = unsavedWork()
      return copy
    }
  }

  /// What quitting now would lose; call with the lock held.
  private func unsavedWork() -> [String] {
    var lost: [String] = []
    if finishedSnapshots.count > 1, finishedSnapshots.count != savedSnapshots {
      let steps = finishedSnapshots.count - 1
      lost.append(Wording.count(steps, "step model"))
    }
    if pipelineEdited { lost.append("the edited pipeline") }
    // A watched study lives on in its storage; one started here is in the session folder.
    if let search = current.search, !search.isWatching { lost.append("the study") }
    return lost
  }

  /// A new folder inside the session folder, e.g. `run-2`; call with the lock held.
  func subfolder(_ kind: String) -> URL {
    subfolders += 1
    return folder.url.appendingPathComponent("\(kind)-\(subfolders)")
  }
  public var pipeline: [StepSpec] { lock.withLock { runner?.spec.steps ?? [] } }
  public var snapshots: [SnapshotSummary] { lock.withLock { summaries } }

  public var techniques: [TechniqueDescriptor] { Techniques.descriptors }

  // MARK: - Commands

  public func runNextStep() { run(all: false) }
  public func runRemainingSteps() { run(all: true) }

  public func cancel() {
    lock.withLock {
      guard current.isBusy else { return }
      cancelRequested = true
      log(.info, "cancelling…")
    }
  }

  public func undo() {
    lock.withLock {
      guard !current.isBusy, let runner, runner.snapshots.count > 1 else { return }
      let undone = runner.snapshots.count - 2
      runner.stepBack()
      finishedSnapshots = runner.snapshots
      current.steps[undone].state = .pending
      current.steps[undone].metrics = nil
      current.steps[undone].progress = 0
      current.steps[undone].message = ""
      stepFailures[undone] = nil
      summaries.removeLast()
      refreshModel()
      log(.info, "stepped back before \(current.steps[undone].name)")
    }
  }

  public func layerDetail(named name: String) -> LayerDetail? {
    lock.withLock {
      let names = ["original"] + current.steps.prefix(max(0, finishedSnapshots.count - 1)).map(\.name)
      return LayerInspector.detail(
        layer: name, snapshots: zip(names, finishedSnapshots).map { ($0, $1.deployed) })
    }
  }

  public func open(model: String, dataset: String?, pipeline: String?) throws {
    guard !state.isBusy else { throw SessionError("wait for the running step to finish (or cancel it with c)") }
    try load(model: model, dataset: dataset, pipeline: pipeline ?? sources.pipeline)
  }

  public func replaceSteps(_ steps: [StepSpec]) throws {
    try lock.withLock {
      guard !current.isBusy else { throw SessionError("wait for the running step to finish") }
      guard let runner else { throw SessionError("no pipeline is open") }
      let before = runner.spec.steps
      if before.count != steps.count || !zip(before, steps).allSatisfy({ $0.hasSameSettings(as: $1) }) {
        pipelineEdited = true
      }
      do {
        try runner.replaceSteps(steps)
      } catch {
        throw SessionError("\(error)")
      }
      finishedSnapshots = runner.snapshots
      let done = runner.snapshots.count - 1
      current.steps = steps.enumerated().map { i, step in
        StepRow(
          name: step.name, technique: step.technique, state: i < done ? .done : .pending,
          metrics: i < done ? runner.snapshots[i + 1].metrics : nil)
      }
      summaries = Array(summaries.prefix(done + 1))
      stepFailures = stepFailures.filter { $0.key < done }
      // The curves of a step that will run again belong to a model no panel shows any more.
      if let training = current.training, !current.steps.prefix(done).contains(where: { $0.name == training.stepName })
      {
        current.training = nil
      }
      // Every panel shows the last kept step's model, as after an undo.
      refreshModel()
      let again = done < steps.count ? "; from \(steps[done].name) on, steps run again" : ""
      log(.info, "pipeline updated: \(Wording.count(steps.count, "step"))\(again)")
    }
  }

  public func savePipeline(to path: String) throws {
    let (spec, source) = lock.withLock { (runner?.spec, pipelineSource) }
    guard let spec else { throw SessionError("no pipeline is open") }
    let text = source.map { PipelineText.render(spec, original: $0.text, source: $0.spec) } ?? spec.yaml()
    try AtomicFile.write(text, to: URL(fileURLWithPath: path))
    lock.withLock {
      pipelineEdited = false
      log(.info, "saved the pipeline to \(path)")
    }
  }

  public func saveModel(to path: String) throws {
    let (model, count): (Model?, Int) = try lock.withLock {
      guard !current.isBusy else { throw SessionError("wait for the running step to finish") }
      return (finishedSnapshots.last?.deployed, finishedSnapshots.count)
    }
    guard let model else { throw SessionError("no model is open") }
    let url = URL(fileURLWithPath: path)
    let format: ModelOpener.Format = url.pathExtension.lowercased() == "onnx" ? .onnx : .safetensors
    try ModelOpener.save(model, to: url, format: format)
    lock.withLock {
      savedSnapshots = count
      log(.info, "saved the model to \(path) (\(format.rawValue), \(ByteCount.format(url.fileSizeOnDisk)))")
    }
  }

  public func shutdown(keepingFolder: Bool) {
    let (running, watching): (WorkbenchStudy?, StudyWatcher?) = lock.withLock {
      cancelRequested = true
      return (study, watcher)
    }
    watching?.stop()
    running?.shutdown()
    // The step sees `cancelRequested` at its next safe point; after this no engine work runs.
    queue.sync {}
    if !keepingFolder { folder.remove() }
  }

  // MARK: - Engine work

  /// Opens a model with a pipeline; `name` is what the header calls the model (default: `model`).
  func load(model: String, dataset: String?, pipeline: String?, name: String? = nil) throws {
    let workspace: Workspace
    var pipelineFile: String?
    if let pipeline {
      let url = try WorkspaceSources.pipelineFile(pipeline)
      pipelineFile = saveTarget(for: url)
      let spec = try PipelineSpec.read(from: url)
      let text = try? String(contentsOf: url, encoding: .utf8)
      // The pipeline's own model is found beside the file, and its errors point at its line.
      let override = model == spec.model ? nil : model
      workspace = try Workspace.open(spec, text: text, model: override, dataset: dataset, describedAs: pipeline)
    } else {
      workspace = try Workspace.open(model: model, dataset: dataset)
    }
    let spec = workspace.pipeline
    let network = workspace.model
    let datasetName = workspace.datasetName
    let source = workspace.pipelineText.map { ($0, spec) }
    let output = lock.withLock { subfolder("run") }
    let newRunner = try workspace.runner(outputDirectory: output, latencySeconds: latencySeconds)
    let data = workspace.data.test.count > 0 ? workspace.data.test : workspace.data.train
    let shape = network.canRun(on: data) ? network.feeds(data, 0..<1) : nil
    // The layer table runs shape rules over the whole graph: outside the lock, so the screen
    // keeps drawing while a large model opens.
    let layers = Self.layerRows(network, exampleFeeds: shape)
    lock.withLock {
      exampleFeeds = shape
      sources = (model, datasetName, pipeline)
      current.pipelineFile = pipelineFile
      pipelineSource = source
      savedSnapshots = 1
      pipelineEdited = pipeline == nil && !spec.steps.isEmpty
      runner = newRunner
      finishedSnapshots = []
      originalReference = nil
      summaries = []
      stepFailures = [:]
      current.steps = spec.steps.map { StepRow(name: $0.name, technique: $0.technique, state: .pending) }
      current.baseline = nil
      current.training = nil
      current.isBusy = true
      current.model = ModelSummary(
        name: name ?? model, path: workspace.modelFile?.path ?? model, dataset: datasetName,
        layers: layers, totals: Self.totals(network, bytes: 0, accuracy: nil))
      log(
        .info,
        "opened \(name ?? model) on \(datasetName) with \(Wording.count(spec.steps.count, "step")); measuring the input model…"
      )
    }
    queue.async { [weak self] in self?.measureInput(newRunner) }
  }

  /// Where a pipeline opened from `file` is saved by default: back to the user's own file, but
  /// never into the bundled samples or the session folder (a search trial's pipeline), which
  /// get only their file name, in the working folder.
  func saveTarget(for file: URL) -> String {
    let path = file.standardizedFileURL.path
    let scratch = [SamplesDirectory.locate(), folder.url].compactMap { $0?.standardizedFileURL.path }
    return scratch.contains { path.hasPrefix($0 + "/") } ? file.lastPathComponent : file.path
  }

  private func measureInput(_ runner: PipelineRunner) {
    do {
      let metrics = try runner.measureInput()
      // The layer table's shapes take a forward pass: outside the lock, so the screen keeps
      // drawing while a large model runs it.
      let summary = Self.summary(runner.snapshots[0], name: "original", exampleFeeds: lock.withLock { exampleFeeds })
      lock.withLock {
        guard runner === self.runner else { return }
        current.baseline = metrics
        finishedSnapshots = runner.snapshots
        current.isBusy = false
        summaries = [summary]
        refreshModel()
        log(
          .info,
          String(
            format: "input: %.2f%% %@, %@, %@", metrics.accuracy * 100, metrics.scoreName,
            ByteCount.format(metrics.sizeBytes), Self.latencyText(metrics.latencyUs)))
      }
    } catch {
      lock.withLock {
        current.isBusy = false
        log(.error, "measuring the input model failed: \(error)")
      }
    }
  }

  private func run(all: Bool) {
    let started: PipelineRunner? = lock.withLock {
      // The runner is the engine queue's while busy: nothing of it is read before this check.
      guard !current.isBusy, let runner, runner.isStarted, !runner.isFinished else {
        if !current.isBusy, let runner, runner.isFinished {
          log(.info, "every step has run; u steps back, e edits the pipeline")
        }
        return nil
      }
      current.isBusy = true
      current.revision += 1
      cancelRequested = false
      return runner
    }
    guard let runner = started else { return }
    queue.async { [weak self] in
      guard let self else { return }
      repeat {
        let index = runner.nextStep
        if !self.runStep(runner, index) { break }
      } while all && !runner.isFinished && !self.lock.withLock({ self.cancelRequested })
      // A new revision, or the screen (which redraws on new revisions) keeps its spinner.
      self.lock.withLock {
        self.current.isBusy = false
        self.current.revision += 1
      }
    }
  }

  /// Runs one step on the engine queue; false when it failed or was cancelled.
  private func runStep(_ runner: PipelineRunner, _ index: Int) -> Bool {
    let name = runner.spec.steps[index].name
    lock.withLock {
      current.steps[index].state = .running
      current.steps[index].progress = 0
      current.steps[index].message = "starting"
      current.training = nil
      log(.info, "running \(name)")
    }
    var points: [TrainingCurve.Point] = []
    var batches = 0
    let start = Date()
    do {
      let metrics = try runner.runNextStep(
        progress: { [weak self] p in
          guard let self else { return }
          var curve: TrainingCurve?
          if let t = p.training {
            batches += 1
            points.append(.init(step: batches, loss: Double(t.loss), accuracy: Double(t.accuracy)))
            if points.count > 4000 { points.removeFirst(points.count - 4000) }
            let elapsed = Date().timeIntervalSince(start)
            curve = TrainingCurve(
              stepName: name, points: points, epoch: t.epoch, epochs: t.epochs, batch: t.batch,
              batchesPerEpoch: t.batches,
              etaSeconds: p.fraction > 0.01 ? elapsed / p.fraction * (1 - p.fraction) : nil)
          }
          self.lock.withLock {
            self.current.steps[index].progress = p.fraction
            self.current.steps[index].message = p.message
            if let curve { self.current.training = curve }
            self.current.revision += 1
          }
        },
        isCancelled: { [weak self] in self?.lock.withLock { self?.cancelRequested ?? true } ?? true })
      let feeds = lock.withLock { exampleFeeds }
      let summary = Self.summary(
        runner.snapshots.last!, name: name, exampleFeeds: feeds, reference: reference(for: runner, feeds: feeds))
      lock.withLock {
        finishedSnapshots = runner.snapshots
        current.steps[index].state = .done
        current.steps[index].progress = 1
        current.steps[index].message = ""
        current.steps[index].metrics = metrics
        summaries.append(summary)
        refreshModel()
        var line = String(
          format: "%@: %.2f%% %@, %@ (%.1fx), %@, %.1f s", name, metrics.accuracy * 100, metrics.scoreName,
          ByteCount.format(metrics.sizeBytes), metrics.compressionRatio, Self.latencyText(metrics.latencyUs),
          metrics.wallSeconds)
        for (key, value) in metrics.extra.sorted(by: { $0.key < $1.key }) {
          line += String(format: ", %@ %.4g", key, value)
        }
        log(.info, line)
      }
      return true
    } catch is StepCancelled {
      lock.withLock {
        current.steps[index].state = .pending
        current.steps[index].progress = 0
        current.steps[index].message = ""
        log(.warning, "\(name) cancelled; the model is as it was before it")
      }
    } catch {
      lock.withLock {
        current.steps[index].state = .failed("\(error)")
        current.steps[index].message = "\(error)"
        log(.error, "\(name) failed: \(error)")
      }
    }
    return false
  }

  // MARK: - Conversions (call with the lock held where they touch state)

  /// The reference outputs of `runner`'s input model, run the first time a step asks (on the
  /// engine queue) and kept until another model is opened.
  private func reference(for runner: PipelineRunner, feeds: [Tensor<Float>]?) -> LayerMeasurements.Reference? {
    if let kept = lock.withLock({ originalReference }), kept.runner === runner { return kept.reference }
    let original = runner.snapshots[0].deployed
    let reference = LayerMeasurements.Reference(original, feeds: Self.measurementFeeds(original, exampleFeeds: feeds))
    lock.withLock { originalReference = (runner, reference) }
    return reference
  }

  /// Shows the last snapshot's layers, from its summary (the two are kept in step).
  private func refreshModel() {
    guard let last = finishedSnapshots.last, var model = current.model else { return }
    model.layers = summaries.last?.layers ?? Self.layerRows(last.deployed, exampleFeeds: exampleFeeds)
    model.totals = Self.totals(last.deployed, bytes: last.metrics.sizeBytes, accuracy: last.metrics.accuracy)
    current.model = model
    current.revision += 1
  }

  /// Adds a log line; call with the lock held.
  func log(_ level: LogLine.Level, _ text: String) {
    current.log.append(LogLine(level, text))
    if current.log.count > 200 { current.log.removeFirst(current.log.count - 200) }
    current.revision += 1
  }

  /// The layer table of `model`: each node's weights and kernel, the values it reads, the
  /// activation folded into it, and its output shape on `exampleFeeds` (the model's own example
  /// size without). Time shares and output errors are `summary`'s, which runs the model.
  static func layerRows(_ model: Model, exampleFeeds: [Tensor<Float>]? = nil) -> [LayerRow] {
    let shapes = exampleFeeds.map { model.outputShapes(feeds: $0) } ?? model.outputShapes()
    return model.nodes.map { node in
      let s = node.layer.statistics
      return LayerRow(
        name: node.name, op: node.layer.op, shape: shapes[node.name] ?? [], parameters: s.parameters,
        sparsity: s.parameters == 0 ? 0 : 1 - Double(s.nonzeros) / Double(s.parameters), bits: s.bitsPerParameter,
        bytes: s.storedBytes, kernel: node.layer.kernelName, inputs: node.inputs,
        foldedActivation: (node.layer as? ReLUFolding)?.relu == true ? "relu" : nil)
    }
  }

  /// "1.2 ms at batch 1, 40.1 ms at batch 64", naming the batches that were timed (on the
  /// data's own examples; the larger batch is smaller than 256 for a slow model).
  static func latencyText(_ latency: StepMetrics.Latency) -> String {
    var text = Format.micros(latency.batch1P50) + " at batch 1"
    if latency.largeBatch > 1 { text += ", " + Format.micros(latency.batch256P50) + " at batch \(latency.largeBatch)" }
    return text
  }

  static func totals(_ model: Model, bytes: Int, accuracy: Double?) -> ModelTotals {
    let s = model.statistics
    return ModelTotals(parameters: s.parameters, nonzeros: s.nonzeros, bytes: bytes, accuracy: accuracy)
  }

  /// A snapshot's layer table with what takes running the model (`measuredLayerRows`), so it
  /// runs on the engine queue once per snapshot, never per frame.
  static func summary(
    _ snapshot: PipelineRunner.Snapshot, name: String, exampleFeeds: [Tensor<Float>]?,
    reference: LayerMeasurements.Reference? = nil
  ) -> SnapshotSummary {
    SnapshotSummary(
      name: name, metrics: snapshot.metrics,
      layers: measuredLayerRows(snapshot.deployed, exampleFeeds: exampleFeeds, reference: reference))
  }

  /// The feeds layer measurements run on: the data's first example, else the model's own
  /// random one (seeded, so every snapshot of a session gets the same).
  static func measurementFeeds(_ model: Model, exampleFeeds: [Tensor<Float>]?) -> [Tensor<Float>] {
    var generator = SeededGenerator(seed: 1)
    return exampleFeeds ?? model.exampleFeeds(batchSize: 1, generator: &generator)
  }

  /// `layerRows` with each layer's share of the run time at batch 1 and, given the `reference`
  /// (the model as opened, run once on the same feeds), its output's SQNR against the
  /// original's, both on `measurementFeeds`.
  static func measuredLayerRows(
    _ model: Model, exampleFeeds: [Tensor<Float>]?, reference: LayerMeasurements.Reference? = nil
  ) -> [LayerRow] {
    var layers = layerRows(model, exampleFeeds: exampleFeeds)
    let feeds = measurementFeeds(model, exampleFeeds: exampleFeeds)
    let shares = LayerMeasurements.latencyShares(model, feeds: feeds)
    let errors = reference.map { LayerMeasurements.outputSQNR(model, reference: $0, feeds: feeds) } ?? [:]
    for i in layers.indices {
      layers[i].latencyShare = shares[layers[i].name]
      layers[i].outputSQNR = errors[layers[i].name]
    }
    return layers
  }
}

/// A request the session cannot carry out, with the reason shown on the status line.
public struct SessionError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
