import Foundation

/// Made-up but plausible numbers for `TUIBenchmark` only: the app never shows this session.
/// Deterministic, so frame times are comparable run to run.
final class SyntheticSession: WorkbenchSession {
  let state: WorkbenchState
  let techniques: [TechniqueDescriptor] = []
  let pipeline: [PipelineStepSpec] = []
  let snapshots: [SnapshotSummary] = []

  init(layers layerCount: Int, steps stepCount: Int) {
    var layers: [LayerRow] = []
    for index in 0..<layerCount {
      let outputs = 32 << (index % 4)
      let parameters = outputs * 64 * 9
      layers.append(
        LayerRow(
          name: "features.\(index).conv", op: index % 3 == 2 ? "linear" : "conv2d", shape: [outputs, 64, 3, 3],
          parameters: parameters, sparsity: Double(index % 10) / 10, bits: index % 2 == 0 ? 8 : 32,
          bytes: parameters * (index % 2 == 0 ? 1 : 4), kernel: index % 2 == 0 ? "int8-gemm" : "gemm-f32"))
    }
    let parameters = layers.reduce(0) { $0 + $1.parameters }
    let bytes = layers.reduce(0) { $0 + $1.bytes }
    func metrics(_ step: Int) -> StepMetrics {
      let size = bytes / (step + 1)
      return StepMetrics(
        accuracy: 0.98 - 0.004 * Double(step * step % 7), sizeBytes: size, compressionRatio: Double(step + 1),
        parameters: parameters, nonzeros: parameters / (step + 1), bitsPerWeight: 32 / Double(step + 1),
        latencyB1P50: 900 - 60 * Double(step), latencyB1P95: 1100, latencyB256P50: 40_000, latencyB256P95: 45_000,
        wallSeconds: 12)
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
      log: [LogLine(.info, "benchmark")], isBusy: true)
  }

  func runNextStep() {}
  func runRemainingSteps() {}
  func cancel() {}
  func undo() {}
  func layerDetail(named name: String) -> LayerDetail? { nil }
  func open(model: String, dataset: String?, pipeline: String?) throws {}
  func replaceSteps(_ steps: [PipelineStepSpec]) throws {}
  func savePipeline(to path: String) throws {}
  let searchPipelines: [String] = []
  func startSearch(_ request: SearchRequest) throws {}
  func cancelSearch() {}
  func loadTrial(_ number: Int) throws {}
}

/// Frame-build timing for `lathe bench` and the README figure (target: under 5 ms at 200x60).
public enum TUIBenchmark {
  /// Median milliseconds to build one full workbench frame (every panel, charts included) into
  /// a cell grid, without a terminal. `screen` picks "home" or "training".
  public static func frameBuildMilliseconds(
    width: Int = 200, height: Int = 60, frames: Int = 200, layers: Int = 40, steps: Int = 8,
    screen: String = "home"
  ) -> Double {
    let app = WorkbenchApp(session: SyntheticSession(layers: layers, steps: steps))
    if screen == "training" { app.handle(.character("m")) }
    var times: [Double] = []
    times.reserveCapacity(frames)
    for frame in 0..<max(1, frames) {
      let start = DispatchTime.now().uptimeNanoseconds
      let grid = app.render(width: width, height: height, tick: frame)
      let end = DispatchTime.now().uptimeNanoseconds
      precondition(grid.width == width)
      times.append(Double(end - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
  }
}
