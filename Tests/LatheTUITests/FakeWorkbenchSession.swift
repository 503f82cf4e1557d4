import LatheCompress
import LatheTUI

/// A deterministic session for tests: a small three-layer model, a two-step pipeline with the
/// first step done, and every command recorded instead of run.
final class FakeWorkbenchSession: WorkbenchSession {
  var state: WorkbenchState
  var commands: [String] = []
  var pipeline: [StepSpec]
  var failOpen = false
  /// The pipeline each `open` was given (nil: the session's own), in order.
  var openedPipelines: [String?] = []

  var techniques = [
    TechniqueDescriptor(
      name: "magnitude-prune", summary: "zero the smallest weights",
      parameters: [
        ParameterDescriptor("sparsity", .float(0...0.99), default: .float(0.5), help: "fraction zeroed"),
        ParameterDescriptor("scope", .choice(["layer", "global"]), default: .string("layer"), help: "ranking"),
        ParameterDescriptor("finetune", .bool, default: .bool(true), help: "train after pruning"),
      ]),
    TechniqueDescriptor(
      name: "int8-quantize", summary: "8-bit weights, per-channel scales",
      parameters: [
        ParameterDescriptor("calibration", .int(1...10_000), default: .int(256), help: "batches")
      ]),
  ]

  static let layers = [
    LayerRow(
      name: "conv1", op: "conv2d", shape: [6, 1, 5, 5], parameters: 156, sparsity: 0.25, bits: 32, bytes: 624,
      kernel: "gemm-f32"),
    LayerRow(name: "relu1", op: "relu", shape: [], parameters: 0, sparsity: 0, bits: 32, bytes: 0, kernel: "-"),
    LayerRow(
      name: "fc1", op: "linear", shape: [120, 400], parameters: 48_120, sparsity: 0.5, bits: 8, bytes: 24_060,
      kernel: "sparse-csr"),
  ]

  static let baseline = StepMetrics(
    name: "original", technique: "", accuracy: 0.981, sizeBytes: 193_104, compressionRatio: 1, parameters: 48_276,
    nonzeros: 48_276, bitsPerWeight: 32,
    latencyUs: .init(batch1P50: 850, batch1P95: 990, batch256P50: 21_000, batch256P95: 23_000), wallSeconds: 0,
    modelPath: "")
  static let pruned = StepMetrics(
    name: "prune-50", technique: "magnitude-prune", accuracy: 0.975, sizeBytes: 96_552, compressionRatio: 2,
    parameters: 48_276, nonzeros: 24_138, bitsPerWeight: 16,
    latencyUs: .init(batch1P50: 610, batch1P95: 700, batch256P50: 15_000, batch256P95: 16_000), wallSeconds: 12.5,
    modelPath: "")

  init() {
    pipeline = [
      StepSpec(name: "prune-50", technique: "magnitude-prune", parameters: [("sparsity", .float(0.5))]),
      StepSpec(name: "int8", technique: "int8-quantize"),
    ]
    state = WorkbenchState(
      revision: 1,
      model: ModelSummary(
        name: "lenet-5", path: "samples/lenet-5.safetensors", dataset: "mnist", layers: Self.layers,
        totals: ModelTotals(parameters: 48_276, nonzeros: 24_177, bytes: 24_684, accuracy: 0.975)),
      baseline: Self.baseline,
      steps: [
        StepRow(name: "prune-50", technique: "magnitude-prune", state: .done, progress: 1, metrics: Self.pruned),
        StepRow(name: "int8", technique: "int8-quantize", state: .pending),
      ],
      log: [LogLine(.info, "opened lenet-5")])
  }

  /// Puts the second step in the middle of training.
  func startTraining() {
    state.steps[1].state = .running
    state.steps[1].progress = 0.4
    state.steps[1].message = "epoch 2/5"
    state.isBusy = true
    state.training = TrainingCurve(
      stepName: "int8",
      points: (0..<40).map {
        TrainingCurve.Point(step: $0, loss: 2.0 / Double($0 + 1), accuracy: 0.5 + Double($0) / 100)
      },
      epoch: 2, epochs: 5, batch: 40, batchesPerEpoch: 100, etaSeconds: 95)
    state.revision += 1
  }

  /// Snapshots a test sets (a large model's); nil gives the three-layer ones below.
  var customSnapshots: [SnapshotSummary]?

  var snapshots: [SnapshotSummary] {
    if let customSnapshots { return customSnapshots }
    var prunedLayers = Self.layers
    prunedLayers[2].sparsity = 0.75
    prunedLayers[2].bytes = 12_030
    return [
      SnapshotSummary(name: "original", metrics: Self.baseline, layers: Self.layers),
      SnapshotSummary(name: "prune-50", metrics: Self.pruned, layers: prunedLayers),
    ]
  }

  func runNextStep() { commands.append("next") }
  func runRemainingSteps() { commands.append("all") }
  func cancel() { commands.append("cancel") }
  func undo() { commands.append("undo") }

  func layerDetail(named name: String) -> LayerDetail? {
    commands.append("detail \(name)")
    guard name != "relu1" else { return nil }
    let before = (0..<32).map { 100 - abs($0 - 16) * 6 }
    var after = before
    after[15] = 0
    after[16] = 300
    after[17] = 0
    return LayerDetail(
      name: name, histogramBefore: before, histogramAfter: after, range: -0.5...0.5,
      sparsityMap: (0..<64).map { Double($0 % 8) / 7 }, sparsityRows: 8, sparsityColumns: 8,
      channelMin: (0..<6).map { -0.1 * Double($0 + 1) }, channelMax: (0..<6).map { 0.05 * Double($0 + 1) },
      quantizationError: QuantizationError(meanSquared: 0.0004, maxAbsolute: 0.02, sqnrDecibels: 38.2),
      changedBy: "prune-50")
  }

  struct OpenFailure: Error, CustomStringConvertible {
    var description: String { "not a model file" }
  }

  func open(model: String, dataset: String?, pipeline: String?) throws {
    commands.append("open \(model) \(dataset ?? "-")")
    openedPipelines.append(pipeline)
    if failOpen { throw OpenFailure() }
  }

  func replaceSteps(_ steps: [StepSpec]) throws {
    commands.append("replace \(steps.map(\.name).joined(separator: ","))")
    pipeline = steps
  }

  func savePipeline(to path: String) throws { commands.append("save \(path)") }
  func saveModel(to path: String) throws { commands.append("save model \(path)") }
  func shutdown(keepingFolder: Bool) { commands.append(keepingFolder ? "shutdown keeping folder" : "shutdown") }

  // MARK: search

  let searchPipelines = ["search-pruning", "/work/my-search.yaml"]

  /// Starting a study shows `Self.study` (five trials: three complete, one failed, one running).
  func startSearch(_ request: SearchRequest) throws {
    commands.append("search \(request.pipeline) \(request.trials) \(request.jobs)")
    state.search = Self.study
    state.revision += 1
  }

  func cancelSearch() { commands.append("cancel search") }

  func loadTrial(_ number: Int) throws { commands.append("load trial \(number)") }
  func saveTrialPipeline(_ number: Int, to path: String) throws { commands.append("save trial \(number) \(path)") }

  static func settings(_ fc1: String, _ fc2: String) -> [(name: String, value: String)] {
    [("prune.final_sparsity.fc1", fc1), ("prune.final_sparsity.fc2", fc2)]
  }

  /// Trial 3 misses the accuracy floor; the trials ran on two hosts.
  static let study = SearchState(
    pipelineName: "search-pruning", sampler: "tpe", objectives: ["minimize size_bytes"],
    constraints: ["accuracy >= 0.94"], totalTrials: 12, jobs: 2,
    trials: [
      SearchTrial(
        number: 0, state: .complete, settings: settings("0.62", "0.71"), accuracy: 0.962, sizeBytes: 180_400,
        latencyB1: 95, seconds: 41, host: "node-a"),
      SearchTrial(
        number: 1, state: .complete, settings: settings("0.91", "0.88"), accuracy: 0.948, sizeBytes: 64_200,
        latencyB1: 61, seconds: 39, host: "node-b.cluster.local"),
      SearchTrial(
        number: 2, state: .failed, settings: settings("0.99", "0.5"), seconds: 3,
        error: "lathe run: exit status 1: out of memory", host: "node-a"),
      SearchTrial(
        number: 3, state: .complete, settings: settings("0.95", "0.93"), accuracy: 0.931, sizeBytes: 41_800,
        latencyB1: 52, seconds: 40, host: "node-b.cluster.local", violations: ["accuracy >= 0.94"]),
      SearchTrial(number: 4, state: .running, settings: settings("0.87", "0.9"), host: "node-a"),
    ],
    bestSoFar: [BestSoFarPoint(trial: 0, value: 180_400), BestSoFarPoint(trial: 1, value: 64_200)],
    front: [1], isRunning: true, storage: "/tmp/lathe-search/search-pruning.study.db")
}
