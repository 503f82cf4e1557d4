import ArgumentParser
import CKernels
import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheWorkspace

extension Lathe {
  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a model as ONNX (fp32, pruned, or int8 as QDQ), as a Lathe safetensors file, or as GGUF.",
      discussion: """
        GGUF (llama.cpp's format) holds the weights: tensors of rank 2 and more in --type when their rows \
        are whole blocks (32, or 256 for q4_k), else Q8_0 or F32, each such fallback printed; 1-D tensors \
        stay F32. --reference writes every tensor as the file decodes to an .npz, which \
        scripts/gguf_check.py compares with what the gguf Python package reads.
        """)

    @Argument(help: "Model: a .safetensors or .onnx file, or a bundled sample name.") var model: String
    @Option(name: .long, help: "onnx, safetensors or gguf.") var format: String
    @Option(name: [.short, .long], help: "File to write (replaced atomically).") var output: String
    @Option(name: .long, help: "gguf: the weights' type: f32, f16, q8_0, q4_0 or q4_k (default q8_0).")
    var type: String?
    @Option(name: .long, help: "gguf: general.name (default: the model's file or sample name).") var name: String?
    @Option(name: .long, help: "gguf: also write this .npz of every tensor as the file decodes.")
    var reference: String?
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
      if format.lowercased() != "gguf", type != nil || name != nil || reference != nil {
        throw ValidationError("--type, --name and --reference are for --format gguf")
      }
    }

    func run() throws {
      try reportingErrors {
        let url = URL(fileURLWithPath: output)
        if format.lowercased() == "gguf" { return try exportGGUF(to: url) }
        guard let target = ModelOpener.Format(rawValue: format.lowercased()), target != .huggingFace else {
          throw CommandFailure("--format must be onnx, safetensors or gguf, got \"\(format)\"")
        }
        let network = try ModelOpener.open(model)
        // The folder is made first, so a path that cannot exist fails with one line naming it.
        try AtomicFile.createFolder(url.deletingLastPathComponent())
        try ModelOpener.save(network, to: url, format: target)
        let report = ExportReport(
          output: output, format: target.rawValue, bytes: url.fileSizeOnDisk, nodes: network.nodes.count)
        if json { return try printJSON(report) }
        print("wrote \(output) (\(target.rawValue), \(report.bytes) bytes, \(network.nodes.count) nodes)")
      }
    }

    private func exportGGUF(to url: URL) throws {
      let typeName = (type ?? "q8_0").lowercased()
      guard let weightType = GGUFExportOptions.typeNames[typeName] else {
        let known = GGUFExportOptions.typeNames.keys.sorted().joined(separator: ", ")
        throw CommandFailure("--type must be one of \(known), got \"\(typeName)\"")
      }
      let network = try ModelOpener.open(model)
      let modelName = name ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
      try AtomicFile.createFolder(url.deletingLastPathComponent())
      // A transformer gets llama.cpp's tensor names and hyperparameter keys.
      let options =
        GGUFTransformer.options(for: network, type: weightType, name: modelName)
        ?? GGUFExportOptions(type: weightType, name: modelName)
      let written = try GGUFExport.write(network, to: url, options: options)
      if let reference {
        let referenceURL = URL(fileURLWithPath: reference)
        try AtomicFile.createFolder(referenceURL.deletingLastPathComponent())
        try NumpyArchive.write(written.reference, to: referenceURL)
      }
      if json {
        var report = ExportReport(output: output, format: "gguf", bytes: url.fileSizeOnDisk)
        (report.type, report.tensors) = ("\(weightType)", written.tensors.count)
        report.fallbacks = written.fallbacks.map { "\($0)" }
        report.reference = reference
        return try printJSON(report)
      }
      print(
        "wrote \(output) (gguf \(weightType), \(url.fileSizeOnDisk) bytes, \(written.tensors.count) tensors)"
          + (reference.map { ", reference \($0)" } ?? ""))
      for fallback in written.fallbacks { print("  \(fallback)") }
    }
  }

  struct ONNXTest: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "onnx-test",
      abstract: "Run ONNX backend-test folders (model.onnx, test_data_set_N/) on the engine.",
      discussion: "Outputs must match within rtol 1e-3, atol 1e-4. A folder without model.onnx is searched one "
        + "level down. Prints each failure, then \"N passed, N failed\". With --time, each set that matches "
        + "is run ROUNDS more times after a warm-up and a line \"time TEST SET: median M ms, fastest F ms, R runs\" "
        + "printed (import not counted).")

    @Argument(help: "Test folders, or folders of test folders.") var folders: [String]
    @Flag(name: .long, help: "Print every test, not only failures.") var verbose = false
    @Flag(name: .long, help: "Require one import as declared (sizes open, every input fed); no fixed-shape retry.")
    var dynamic = false
    @Option(
      name: .long,
      help: ArgumentHelp(
        "Time each matching test data set over this many runs (after one warm-up).", valueName: "rounds"))
    var time: Int?
    @Option(
      name: .long,
      help: ArgumentHelp(
        "Threads one fp32 GEMM is split over, as bench's --threads (LK_THREADS sizes the pool for everything).",
        valueName: "n"))
    var threads: Int?
    @Flag(name: .long, help: "Print one JSON object on stdout: every test with its outcome and timings.")
    var json = false

    func validate() throws {
      if let time, time < 1 { throw ValidationError("--time must be at least 1 run, got \(time)") }
      if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
      if let threads { lk_set_num_threads(Int32(threads)) }
      let tests = BackendTestRunner.testFolders(folders)
      var failed = 0
      var report = ONNXTestReport()
      for folder in tests {
        let outcome = BackendTestRunner.run(folder, requireDynamic: dynamic, timingRounds: time ?? 0)
        if !outcome.passed { failed += 1 }
        if json {
          report.tests.append(.init(outcome))
          continue
        }
        for t in outcome.timings {
          print(
            "time \(outcome.name) \(t.set): median \(milliseconds(t.medianMilliseconds)) ms, fastest "
              + "\(milliseconds(t.minimumMilliseconds)) ms, \(t.rounds) runs"
              + (t.inputsAtRunTime == 0 ? " (no input at run time: all bound as constants at import)" : ""))
        }
        if !outcome.passed {
          print("FAIL \(outcome.name): \(outcome.message)")
        } else if verbose {
          print("ok   \(outcome.name)" + (outcome.message.isEmpty ? "" : " (\(outcome.message))"))
        }
      }
      if tests.isEmpty {
        throw CommandFailure("no test folders (with model.onnx) under \(folders.joined(separator: " "))")
      }
      if json {
        (report.passed, report.failed) = (tests.count - failed, failed)
        try printJSON(report)
      } else {
        print("\(tests.count - failed) passed, \(failed) failed")
      }
      if failed > 0 { throw ExitCode(1) }
    }

    private func milliseconds(_ value: Double) -> String { String(format: "%.3f", value) }
  }
}
