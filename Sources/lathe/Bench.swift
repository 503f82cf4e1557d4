import ArgumentParser
import CKernels
import Foundation
import LatheBenchmarks
import LatheCompress
import LatheIO
import LatheONNX
import LatheTUI
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure fp32 GEMM throughput, sample-model latency and training speed on this machine.",
      discussion: "Compare with ../shared/bench/anchors.py run in the same few minutes (scripts/bench.sh runs both).")

    @Flag(name: .long, help: "Shorter runs (noisier figures).") var quick = false
    @Option(
      name: .long, parsing: .upToNextOption,
      help:
        "Parts to run: gemm, models, train; also kernels (int8/sparse), sparse24 (2:4 Linear against dense) and tui (frame build), not by default."
    )
    var only: [String] = ["gemm", "models", "train"]
    @Option(name: .long, help: "Folder of models to time (default: the bundled samples/models).") var models: String?
    @Option(name: .long, help: "Time each layer of this model alone (at --layer-batches) instead.") var layers: String?
    @Option(
      name: .long, parsing: .upToNextOption,
      help: "Batch sizes --layers times each layer at (default: 1 256).")
    var layerBatches: [Int] = [1, 256]
    @Option(
      name: .long,
      help: "Threads one fp32 GEMM is split over (default: all cores; LK_THREADS sizes the pool for everything).")
    var threads: Int?
    @Option(name: .long, help: "Seconds spent timing each latency figure.") var latencySeconds: Double?
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
      if let bad = layerBatches.first(where: { $0 < 1 }) {
        throw ValidationError("--layer-batches: \(bad) is not a batch size; give sizes of 1 or more (1 32)")
      }
      if layerBatches.isEmpty { throw ValidationError("--layer-batches: give at least one batch size (1 32)") }
    }

    func run() throws {
      try reportingErrors {
        if let threads { lk_set_num_threads(Int32(threads)) }
        var result = BenchResult(
          threads: Int(lk_get_num_threads()), cpuFeatures: cpuFeatureNames(),
          gemmBackend: String(cString: lk_sgemm_backend()), defaultPath: String(cString: lk_isa_name(lk_isa_current())),
          paths: (0..<Int32(LK_ISA_COUNT)).filter { lk_isa_supported($0) != 0 }.map { String(cString: lk_isa_name($0)) }
        )
        say(
          "CPU: \(result.cpuFeatures.joined(separator: " ")); kernel paths: \(result.paths.joined(separator: ", ")); "
            + "default \(result.defaultPath) (LK_ISA=name sets it); fp32 GEMM: \(result.gemmBackend); "
            + "\(result.threads) threads")
        if let layers {
          result.layers = try LayerProfile.measure(path: layers, batches: layerBatches, quick: quick)
          if !json { print(LayerProfile.table(result.layers!)) }
          if json { try printJSON(result) }
          return
        }
        if only.contains("gemm") { result.gemm = benchGEMM() }
        if only.contains("models") {
          result.pathModels = try benchModels()
          result.models = result.pathModels?.first(where: \.isDefault)?.models
        }
        if only.contains("train") { result.training = try benchTraining() }
        if only.contains("kernels") {
          say("int8 and sparse kernels (median per call)")
          for r in KernelBenchmark.run(quick: quick) { say("  \(r)") }
        }
        if only.contains("sparse24") {
          say("2:4 semi-structured Linear against the dense Linear, as layers (median per call)")
          for r in KernelBenchmark.sparse24(quick: quick) { say("  \(r)") }
        }
        if only.contains("tui") {
          // Building one full frame (layout, tables, charts) into the cell grid, at 200x60.
          let home = TUIBenchmark.frameBuildMilliseconds(width: 200, height: 60, frames: quick ? 50 : 300)
          let training = TUIBenchmark.frameBuildMilliseconds(
            width: 200, height: 60, frames: quick ? 50 : 300, screen: "training")
          let search = TUIBenchmark.frameBuildMilliseconds(
            width: 200, height: 60, frames: quick ? 50 : 300, screen: "search")
          // A real imported graph: 500 layers in blocks, every column of the Model panel.
          let large = TUIBenchmark.frameBuildMilliseconds(
            width: 200, height: 60, frames: quick ? 50 : 300, layers: 500)
          result.frameBuildMs = ["home": home, "home-500-layers": large, "training": training, "search": search]
          say(
            String(
              format:
                "workbench frame build at 200x60: home %.2f ms (500 layers %.2f ms), training monitor %.2f ms, "
                + "search %.2f ms (median)",
              home, large, training, search))
        }
        if json { try printJSON(result) }
      }
    }

    private func say(_ line: String) { if !json { print(line) } }

    private func benchGEMM() -> [BenchResult.GEMM] {
      say("fp32 GEMM C = A·B, n×n, \(lk_get_num_threads()) threads (\(String(cString: lk_sgemm_backend())))")
      return [256, 512, 1024, 2048].map { n in
        var g = SeededGenerator(seed: 7)
        let a = Tensor<Float>.uniform([n, n], low: -1, high: 1, generator: &g)
        let b = Tensor<Float>.uniform([n, n], low: -1, high: 1, generator: &g)
        var times: [Double] = []
        let budget = quick ? 0.25 : 1.0
        _ = a.matmul(b)
        let start = Date()
        while times.count < 3 || (Date().timeIntervalSince(start) < budget && times.count < 500) {
          let t0 = DispatchTime.now().uptimeNanoseconds
          _ = a.matmul(b)
          times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        times.sort()
        let median = LatencyMeasurement.percentile(times, 0.5)
        let gflops = 2 * pow(Double(n), 3) / median / 1e9
        say(String(format: "  n=%4d  %8.1f GFLOP/s  (median of %d, %.3f ms)", n, gflops, times.count, median * 1000))
        return .init(n: n, gflops: gflops, medianMs: median * 1000, runs: times.count)
      }
    }

    /// Every model of the folder on every kernel path (`PathLatencies`).
    private func benchModels() throws -> [PathLatencies] {
      let folder =
        try models.map { URL(fileURLWithPath: $0) }
        ?? WorkspaceSources.samplesDirectory().appendingPathComponent("models")
      let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".onnx") }.sorted()
        .map { folder.appendingPathComponent($0) }
      say("model latency (one forward pass, p50) on each kernel path")
      let paths = try PathLatencies.measure(files: files, seconds: latencySeconds ?? (quick ? 0.2 : 0.6))
      for line in PathLatencies.table(paths) { say("  " + line) }
      return paths
    }

    private func benchTraining() throws -> BenchResult.Training {
      let data = try WorkspaceSources.dataset("mnist-5k")
      let epochs = quick ? 2 : 4
      let model = Architecture.lenet300100.build(seed: 0)
      let configuration = TrainingConfiguration(
        epochs: epochs, batchSize: 32, learningRate: 0.01, optimizer: .sgd(momentum: 0.9))
      let report = Trainer(configuration).train(model, on: data.train)
      let times = report.epochs.map(\.seconds).sorted()
      let median = LatencyMeasurement.percentile(times, 0.5)
      let result = BenchResult.Training(
        model: "lenet-300-100", dataset: "mnist-5k", batchSize: 32, epochs: epochs, epochMs: median * 1000,
        samplesPerSecond: Double(data.train.count) / median, peakMemoryBytes: peakResidentBytes())
      say(
        String(
          format:
            "training lenet-300-100 on mnist-5k (4000 examples, batch 32, SGD): %.1f ms/epoch (median of %d), %.0f samples/s",
          result.epochMs, epochs, result.samplesPerSecond))
      return result
    }
  }
}

func cpuFeatureNames() -> [String] {
  let features = Int(lk_cpu_features())
  let names: [(flag: Int, name: String)] = [
    (Int(LK_CPU_AVX2), "avx2"), (Int(LK_CPU_FMA), "fma"),
    (Int(LK_CPU_AVX512F), "avx512f"), (Int(LK_CPU_AVX512VNNI), "avx512vnni"),
    (Int(LK_CPU_AVXVNNI), "avxvnni"), (Int(LK_CPU_NEON), "neon"),
  ]
  return names.filter { features & $0.flag != 0 }.map(\.name)
}

struct BenchResult: Encodable {
  struct GEMM: Encodable {
    var n: Int
    var gflops: Double
    var medianMs: Double
    var runs: Int
  }
  struct ModelLatency: Encodable {
    var model: String
    var batch1: LatencyMeasurement
    var batch256: LatencyMeasurement
  }
  struct Training: Encodable {
    var model: String
    var dataset: String
    var batchSize: Int
    var epochs: Int
    var epochMs: Double
    var samplesPerSecond: Double
    var peakMemoryBytes: Int
  }
  var threads: Int
  var cpuFeatures: [String]
  var gemmBackend: String
  /// The kernel path taken unforced (`lk_isa_current`), and every path this CPU supports.
  var defaultPath: String
  var paths: [String]
  var gemm: [GEMM]?
  /// The default path's figures (what scripts/bench_compare.py reads).
  var models: [ModelLatency]?
  /// Every path's figures.
  var pathModels: [PathLatencies]?
  var training: Training?
  var layers: LayerProfile.Profile?
  var frameBuildMs: [String: Double]?
}
