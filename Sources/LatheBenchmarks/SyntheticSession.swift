import Foundation
import LatheCompress
import LatheTUI

/// Made-up but plausible numbers for `TUIBenchmark` only: the app never shows this session.
/// Deterministic, so frame times are comparable run to run.
final class SyntheticSession: WorkbenchSession {
  let state: WorkbenchState
  let techniques: [TechniqueDescriptor] = []
  let pipeline: [StepSpec] = []
  let snapshots: [SnapshotSummary] = []

  /// `layers` layers in blocks of four (`features.0.conv0` to `features.0.conv3`, ...), each
  /// reading the one before, with time shares and output errors, so the Model panel draws every
  /// column and group row it can (`lathe bench` times 40 and 500 layers).
  init(layers layerCount: Int, steps stepCount: Int) {
    var layers: [LayerRow] = []
    let totalWeight = Double((0..<layerCount).reduce(0) { $0 + 1 + $1 % 4 })
    for index in 0..<layerCount {
      let outputs = 32 << (index % 4)
      let parameters = outputs * 64 * 9
      layers.append(
        LayerRow(
          name: "features.\(index / 4).conv\(index % 4)", op: index % 3 == 2 ? "linear" : "conv2d",
          shape: [outputs, 64, 3, 3], parameters: parameters, sparsity: Double(index % 10) / 10,
          bits: index % 2 == 0 ? 8 : 32, bytes: parameters * (index % 2 == 0 ? 1 : 4),
          kernel: index % 2 == 0 ? "int8-gemm" : "gemm-f32",
          inputs: [index == 0 ? "input" : layers[index - 1].name],
          latencyShare: Double(1 + index % 4) / totalWeight, outputSQNR: 20 + Double(index % 7) * 3,
          foldedActivation: index % 3 == 2 ? "relu" : nil))
    }
    let parameters = layers.reduce(0) { $0 + $1.parameters }
    let bytes = layers.reduce(0) { $0 + $1.bytes }
    func metrics(_ step: Int) -> StepMetrics {
      let size = bytes / (step + 1)
      return StepMetrics(
        name: "step-\(step)", technique: "synthetic", accuracy: 0.98 - 0.004 * Double(step * step % 7),
        sizeBytes: size, compressionRatio: Double(step + 1), parameters: parameters, nonzeros: parameters / (step + 1),
        bitsPerWeight: 32 / Double(step + 1),
        latencyUs: .init(
          batch1P50: 900 - 60 * Double(step), batch1P95: 1100, batch256P50: 40_000, batch256P95: 45_000),
        wallSeconds: 12, modelPath: "")
    }
    var steps: [StepRow] = []
    for index in 0..<stepCount {
      let done = index < stepCount - 2
      steps.append(
        StepRow(
          name: "step-\(index + 1)", technique: index % 2 == 0 ? "magnitude-prune" : "int8-quantize",
          state: done ? .done : index == stepCount - 2 ? .running : .pending, progress: 0.42, message: "epoch 2/5",
          metrics: done ? metrics(index + 1) : nil))
    }
    let points = (0..<500).map { TrainingCurve.Point(step: $0, loss: 2 / Double($0 + 1), accuracy: 0.9) }
    state = WorkbenchState(
      revision: 1,
      model: ModelSummary(
        name: "synthetic", path: "/dev/null", dataset: "none", layers: layers,
        totals: ModelTotals(parameters: parameters, nonzeros: parameters / 2, bytes: bytes, accuracy: 0.97)),
      baseline: metrics(0), steps: steps,
      training: TrainingCurve(
        stepName: "step", points: points, epoch: 2, epochs: 5, batch: 10, batchesPerEpoch: 100, etaSeconds: 30),
      log: [LogLine(.info, "benchmark")], isBusy: true, search: Self.study(trials: 60))
  }

  /// A per-layer pruning study of `trials` trials, the last two still running: sparser trials
  /// are smaller and faster and, past a point, less accurate.
  static func study(trials count: Int) -> SearchState {
    var trials: [SearchTrial] = []
    var bestSoFar: [BestSoFarPoint] = []
    var best = Double.infinity
    for number in 0..<count {
      let sparsity = [0.5, 0.6, 0.7, 0.8].map { 0.5 + Double((number * 37 + Int($0 * 10)) % 49) / 100 }
      let mean = sparsity.reduce(0, +) / Double(sparsity.count)
      let settings = sparsity.enumerated().map {
        ("prune.final_sparsity.fc\($0.offset + 1)", String(format: "%.3g", $0.element))
      }
      guard number < count - 2 else {
        trials.append(SearchTrial(number: number, state: .running, settings: settings))
        continue
      }
      let accuracy = 0.985 - 0.2 * pow(max(0, mean - 0.6), 2) - Double(number % 5) * 0.001
      let size = Int(1_070_000 * (1 - mean) + 4_000)
      trials.append(
        SearchTrial(
          number: number, state: number % 17 == 16 ? .failed : .complete, settings: settings, accuracy: accuracy,
          sizeBytes: size, latencyB1: 40 + 300 * (1 - mean), seconds: 30 + Double(number % 7)))
      if accuracy >= 0.94 { best = min(best, Double(size)) }
      if best.isFinite { bestSoFar.append(BestSoFarPoint(trial: number, value: best)) }
    }
    let bestTrial = trials.filter { $0.state == .complete && ($0.accuracy ?? 0) >= 0.94 }
      .min { ($0.sizeBytes ?? 0) < ($1.sizeBytes ?? 0) }
    return SearchState(
      pipelineName: "search-pruning", sampler: "tpe", objectives: ["minimize size_bytes"],
      constraints: ["accuracy >= 0.94"], totalTrials: count + 20, jobs: 2, trials: trials, bestSoFar: bestSoFar,
      front: bestTrial.map { [$0.number] } ?? [],
      importance: (1...4).map { SettingImportance(name: "prune.final_sparsity.fc\($0)", share: Double(5 - $0) / 10) },
      isRunning: true, storage: "/tmp/search-pruning.study.db")
  }

  func runNextStep() {}
  func runRemainingSteps() {}
  func cancel() {}
  func undo() {}
  func layerDetail(named name: String) -> LayerDetail? { nil }
  func open(model: String, dataset: String?, pipeline: String?) throws {}
  func replaceSteps(_ steps: [StepSpec]) throws {}
  func savePipeline(to path: String) throws {}
  func saveModel(to path: String) throws {}
  func shutdown(keepingFolder: Bool) {}
  let searchPipelines: [String] = []
  func startSearch(_ request: SearchRequest) throws {}
  func cancelSearch() {}
  func loadTrial(_ number: Int) throws {}
}
