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
      let quick = text.replacingOccurrences(
        of: #"(epochs|pruning_epochs): *[0-9]+"#, with: "$1: 1", options: .regularExpression)
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
        // int8 QDQ rounds activations as ORT does, not exactly as Lathe's kernels: one image in
        // a thousand may flip.
        XCTAssertEqual(got, expected, accuracy: 0.0015, "\(name) \(URL(fileURLWithPath: model).lastPathComponent)")
        if let python, try readsWithOnnxInterop(python: python, dataset: dataset) {
          let ort = try onnxRuntimeAccuracy(python: python, model: onnx, dataset: dataset)
          XCTAssertEqual(ort, expected, accuracy: 0.0015, "ONNX Runtime on \(name) \(onnx)")
        }
        checked += 1
      }
    }
    XCTAssertGreaterThanOrEqual(checked, 10, "too few step models were exported")
  }

  /// The first 48 kB of the bundled text's training part and 12 kB of its test part.
  private func shortText() throws -> URL {
    let folder = scratch.appendingPathComponent("kjv-short")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (part, bytes) in [("train", 48_000), ("test", 12_000)] {
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

  private func onnxRuntimeAccuracy(python: String, model: String, dataset: String) throws -> Double {
    let script = Self.packageRoot.appendingPathComponent("scripts/onnx_interop.py").path
    let folder = datasetFolder(dataset).path
    let result = try shell(python, [script, model, folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    return try XCTUnwrap(json?["accuracy"] as? Double, result.stdout)
  }
}
