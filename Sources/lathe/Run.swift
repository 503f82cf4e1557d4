import ArgumentParser
import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a compression pipeline headless and report each step's accuracy, size and latency.",
      discussion: "Pipelines are YAML files; see samples/pipelines/ and docs/pipelines.md.")

    @Argument(help: "Pipeline file (.yaml), or the name of a bundled one.") var pipeline: String
    @Option(name: .long, help: "Start from this model instead of the pipeline's.") var model: String?
    @Option(name: .long, help: "Use this dataset instead of the pipeline's.") var dataset: String?
    @Option(name: .long, help: "Keep each step's model file here (default: a temporary folder).") var outputDir: String?
    @Option(name: .long, help: "Seconds spent timing each latency figure.") var latencySeconds: Double = 0.3
    @Flag(name: .long, help: "Print one JSON object on stdout: {\"steps\": [...]}.") var json = false

    func run() throws {
      try reportingErrors {
        let workspace = try Workspace.open(pipeline: pipeline, model: model, dataset: dataset)
        let spec = workspace.pipeline
        // Without --output-dir the step models are scratch: kept while the run needs them, then removed.
        let scratch = outputDir == nil ? try ScratchFolder.make(prefix: "lathe-run") : nil
        defer { scratch?.remove() }
        let output = outputDir.map { URL(fileURLWithPath: $0) } ?? scratch!.url
        let runner = try workspace.runner(outputDirectory: output, latencySeconds: latencySeconds)
        if !json {
          print(
            "\(spec.name): \(workspace.modelName) on \(workspace.datasetName), \(Wording.count(spec.steps.count, "step"))"
          )
        }
        let input = try runner.measureInput()
        if !json { print(row(input, header: true)) }
        let bar = StepProgressLine(enabled: !json)
        while !runner.isFinished {
          let step = spec.steps[runner.nextStep]
          let metrics = try runner.runNextStep(progress: { bar.show(step.name, $0) })
          bar.finish()
          if !json { print(row(metrics, header: false)) }
        }
        if json { try printJSON(RunResult(pipeline: spec.name, steps: runner.snapshots.map(\.metrics))) }
        if !json, scratch != nil { print("step models were not kept; pass --output-dir to keep them") }
      }
    }

    private func row(_ m: StepMetrics, header: Bool) -> String {
      var lines: [String] = []
      if header {
        lines.append(
          "step".padding(toLength: 22, withPad: " ", startingAt: 0)
            + "  accuracy       size   ratio   nonzeros  bits/w   b1 p50 µs  batch  p50 ms   time s")
      }
      var line =
        m.name.padding(toLength: 22, withPad: " ", startingAt: 0)
        + String(
          format: "  %7.2f%%  %9d  %5.1fx  %9d  %6.2f  %10.1f  %5d  %6.3f  %7.1f", m.accuracy * 100, m.sizeBytes,
          m.compressionRatio, m.nonzeros, m.bitsPerWeight, m.latencyUs.batch1P50, m.latencyUs.largeBatch,
          m.latencyUs.batch256P50 / 1000, m.wallSeconds)
      // Four significant digits, not four decimals: a KL of 2e-5 must not read as 0.
      for (key, value) in m.extra.sorted(by: { $0.key < $1.key }) { line += String(format: "  %@=%.4g", key, value) }
      lines.append(line)
      return lines.joined(separator: "\n")
    }
  }
}

/// One redrawn status line for a running step on a terminal; silent otherwise.
final class StepProgressLine {
  private let enabled: Bool
  private var last = Date.distantPast
  private var drew = false

  init(enabled: Bool) { self.enabled = enabled && stderrIsTerminal }

  func show(_ step: String, _ p: StepProgress) {
    guard enabled, Date().timeIntervalSince(last) > 0.1 else { return }
    last = Date()
    var text = String(format: "\r  %@: %3.0f%% %@", step, p.fraction * 100, p.message)
    if let t = p.training { text += String(format: "  loss %.4f  acc %.2f%%", t.loss, t.accuracy * 100) }
    FileHandle.standardError.write(Data((text.padding(toLength: 100, withPad: " ", startingAt: 0)).utf8))
    drew = true
  }

  func finish() {
    if drew { FileHandle.standardError.write(Data("\r\(String(repeating: " ", count: 100))\r".utf8)) }
    drew = false
  }
}
