import Foundation
import XCTest

/// Every step model of every sample pipeline exports to ONNX that scores what the model scores:
/// `lathe eval` of the .onnx file, and ONNX Runtime when a Python with `onnxruntime` is at hand
/// (`LATHE_ONNX_PYTHON`, else the venv `scripts/onnx-interop.sh` makes). A layer that folds an
/// activation (pruned, int8) and forgets to export it fails here on accuracy.
extension CommandLineTests {
  func testEveryStepModelOfEverySamplePipelineExportsWithItsAccuracy() throws {
    let folder = Self.packageRoot.appendingPathComponent("samples/pipelines")
    let pipelines = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("search-") }.sorted()
    XCTAssertGreaterThanOrEqual(pipelines.count, 7, "the sample pipelines moved")
    let python = onnxRuntimePython()
    if python == nil {
      print("ExportEveryStep: ONNX Runtime half skipped: no python with onnxruntime (run scripts/onnx-interop.sh)")
    }
    var checked = 0
    for name in pipelines {
      // The same steps with one epoch each: the layer kinds (what export must get right) are
      // those of the full pipeline; only the accuracies differ.
      let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
      // Calibration and sensitivity on a few examples: the layers made are the same kinds.
      let quick = text.replacingOccurrences(
        of: #"(epochs|pruning_epochs): *[0-9]+"#, with: "$1: 1", options: .regularExpression
      ).replacingOccurrences(
        of: #"calibration_samples: *[0-9]+"#, with: "calibration_samples: 8", options: .regularExpression
      )
      .replacingOccurrences(
        of: #"\n(\s+)target_bits: *([0-9.]+)"#, with: "\n$1target_bits: $2\n$1sensitivity_samples: 8",
        options: .regularExpression)
      let pipeline = scratch.appendingPathComponent(name)
      try quick.write(to: pipeline, atomically: true, encoding: .utf8)
      let output = scratch.appendingPathComponent(name + ".out")
      // Each step model is scored on the pipeline's own bundled dataset; a language model's on
      // the start of its text (the layer kinds are what export must get right; scoring the
      // whole text at every step took minutes).
      var dataset = String(
        try XCTUnwrap(
          text.split(separator: "\n").first { $0.hasPrefix("dataset: ") }?.dropFirst("dataset: ".count), name))
      if dataset == "kjv" { dataset = try shortText().path }
      let run = try lathe(
        "run", pipeline.path, "--dataset", dataset, "--output-dir", output.path, "--latency-seconds", "0.01", "--json")
      XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
      let steps = try XCTUnwrap(run.json["steps"] as? [[String: Any]], "\(name): \(run.stdout.prefix(300))")
      for step in steps.dropFirst() {
        let model = try XCTUnwrap(step["model_path"] as? String)
        let onnx = model.replacingOccurrences(of: ".safetensors", with: ".onnx")
        let export = try lathe("export", model, "--format", "onnx", "--output", onnx)
        XCTAssertEqual(export.status, 0, "\(name) \(model): \(export.stderr)")
        let own = try lathe("eval", model, "--dataset", dataset, "--json")
        let exported = try lathe("eval", onnx, "--dataset", dataset, "--json")
        if own.status != 0, own.stderr.contains("classes") {
          // A transfer step's model scores a subset of the classes: both files must refuse
          // mnist-5k's other labels the same way.
          XCTAssertNotEqual(exported.status, 0, "\(onnx) scored labels its model cannot")
          checked += 1
          continue
        }
        let expected = try XCTUnwrap(own.json["accuracy"] as? Double, "\(model): \(own.stderr)")
        let got = try XCTUnwrap(exported.json["accuracy"] as? Double, "\(onnx): \(exported.stderr)")
        let label = "\(name) \(URL(fileURLWithPath: model).lastPathComponent)"
        if let perplexity = own.json["perplexity"] as? Double {
          // A language model's task metric is perplexity, a mean over every position: within
          // 0.5%. Next-byte argmax flips between near ties under another summation order or
          // int8 rounding (a few positions in a thousand; up to eight in the deliberately
          // damaged naive W8A8 of llm-w8a8), so its accuracy is held to one point.
          let exportedPerplexity = try XCTUnwrap(exported.json["perplexity"] as? Double, exported.stdout)
          XCTAssertEqual(exportedPerplexity, perplexity, accuracy: perplexity * 0.005, label)
          XCTAssertEqual(got, expected, accuracy: 0.01, label)
          if let python {
            let ort = try onnxRuntimeScores(python: python, model: onnx, dataset: dataset)
            XCTAssertEqual(
              try XCTUnwrap(ort.perplexity), perplexity, accuracy: perplexity * 0.005, "ONNX Runtime: \(label)")
            XCTAssertEqual(ort.accuracy, expected, accuracy: 0.01, "ONNX Runtime: \(label)")
          }
          checked += 1
          continue
        }
        // int8 QDQ rounds activations as ORT does, not exactly as Lathe's kernels: one image in
        // a thousand may flip.
        XCTAssertEqual(got, expected, accuracy: 0.0015, label)
        if let python, try readsWithOnnxInterop(python: python, dataset: dataset) {
          let ort = try onnxRuntimeScores(python: python, model: onnx, dataset: dataset).accuracy
          XCTAssertEqual(ort, expected, accuracy: 0.0015, "ONNX Runtime on \(label)")
        }
        checked += 1
      }
    }
    XCTAssertGreaterThanOrEqual(checked, 10, "too few step models were exported")
  }

  /// The first 24 kB of the bundled text's training part and 3 kB of its test part.
  private func shortText() throws -> URL {
    let folder = scratch.appendingPathComponent("kjv-short")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (part, bytes) in [("train", 24_000), ("test", 3_000)] {
      let source = Self.packageRoot.appendingPathComponent("samples/datasets/kjv/\(part).txt.gz").path
      let text = try shell("/bin/sh", ["-c", "gzip -dc '\(source)' | head -c \(bytes)"])
      try Data(text.stdout.utf8).write(to: folder.appendingPathComponent("\(part).txt"))
    }
    return folder
  }

  /// A bundled dataset's folder, or the folder a path names.
  private func datasetFolder(_ dataset: String) -> URL {
    dataset.hasPrefix("/")
      ? URL(fileURLWithPath: dataset) : Self.packageRoot.appendingPathComponent("samples/datasets/\(dataset)")
  }

  private func onnxRuntimePython() -> String? {
    let environment = ProcessInfo.processInfo.environment
    let candidates = [
      environment["LATHE_ONNX_PYTHON"],
      (environment["TMPDIR"] ?? "/tmp") + "/lathe-onnx-venv/bin/python",
    ].compactMap { $0 }
    return candidates.first { path in
      guard FileManager.default.isExecutableFile(atPath: path) else { return false }
      return (try? shell(path, ["-c", "import onnxruntime, onnx, numpy"]).status) == 0
    }
  }

  /// scripts/onnx_interop.py reads the bundled IDX sets with numpy alone, and the bundled
  /// ImageFolder with Pillow too: without it that half is skipped, and says so.
  private func readsWithOnnxInterop(python: String, dataset: String) throws -> Bool {
    let folder = datasetFolder(dataset).appendingPathComponent("test")
    guard FileManager.default.fileExists(atPath: folder.path) else { return true }
    if try shell(python, ["-c", "import PIL"]).status == 0 { return true }
    print("ExportEveryStep: ONNX Runtime half skipped for \(dataset): no Pillow in \(python)")
    return false
  }

  /// ONNX Runtime's accuracy, and for text its perplexity, from scripts/onnx_interop.py.
  private func onnxRuntimeScores(python: String, model: String, dataset: String) throws -> (
    accuracy: Double, perplexity: Double?
  ) {
    let script = Self.packageRoot.appendingPathComponent("scripts/onnx_interop.py").path
    let folder = datasetFolder(dataset).path
    let result = try shell(python, [script, model, folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    return (try XCTUnwrap(json?["accuracy"] as? Double, result.stdout), json?["perplexity"] as? Double)
  }
}
