import Foundation
import LatheTensor

/// Runs folders laid out as ONNX's backend tests: `model.onnx` and `test_data_set_N/` folders
/// of `input_i.pb` / `output_i.pb` TensorProtos, comparing every output within tolerance.
public enum BackendTestRunner {
  public struct Outcome: Sendable {
    public var name: String
    public var passed: Bool
    /// Why it failed: the import error, or the first output that differs and by how much.
    public var message: String
    /// The sets timed (`run(_:timingRounds:)`), in order; the sets before a failure only.
    public var timings: [SetTiming] = []
  }

  public static let relativeTolerance: Float = 1e-3
  public static let absoluteTolerance: Float = 1e-4

  /// Every test folder under `paths`: a folder holding model.onnx is one test; any other folder
  /// is searched one level down (so `onnx/backend/test/data/simple` runs all of its tests).
  public static func testFolders(_ paths: [String]) -> [URL] {
    let fm = FileManager.default
    var folders: [URL] = []
    for path in paths {
      let url = URL(fileURLWithPath: path)
      if fm.fileExists(atPath: url.appendingPathComponent("model.onnx").path) {
        folders.append(url)
        continue
      }
      let children = (try? fm.contentsOfDirectory(atPath: url.path))?.sorted() ?? []
      for child in children where fm.fileExists(atPath: url.appendingPathComponent("\(child)/model.onnx").path) {
        folders.append(url.appendingPathComponent(child))
      }
    }
    return folders
  }

  /// Runs one test folder. The model is imported once as the file declares it, symbolic sizes
  /// and all, with every input fed at run time (integers as exact floats), and each test data
  /// set runs on that one graph: what a user's session does. Node tests often pass weights or
  /// indices as graph inputs, which only fold when bound; when that first import fails, each
  /// set is imported again with its inputs' shapes fixed and its integer inputs bound, and the
  /// outcome's message says so. `requireDynamic` makes that fallback a failure instead. With
  /// `timingRounds` above 0, each set that matches is then run that many times more after one
  /// warm-up run (`Outcome.timings`).
  public static func run(_ folder: URL, requireDynamic: Bool = false, timingRounds: Int = 0) -> Outcome {
    let name = folder.lastPathComponent
    var timings: [SetTiming] = []
    do {
      let sets = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasPrefix("test_data_set_") }.sorted()
      guard !sets.isEmpty else { return Outcome(name: name, passed: false, message: "no test_data_set_* folders") }
      // The file is mapped and its weights left there: the imports read them from the mapping
      // as `lathe inspect` does (StreamedModelFile), so the weights are held once, not three
      // times (the file's bytes, a decoded ModelProto and the tensors).
      let url = folder.appendingPathComponent("model.onnx")
      let (graph, initialized) = try { () throws(ONNXError) in
        let file = try StreamedModelFile(path: url.path)
        return (file.model.graph, Set(try file.initializerNames()))
      }()
      let feeds = graph.input.filter { !initialized.contains($0.name) }
      let decoder = TensorDecoder(directory: folder)
      var dynamic: ONNXGraph?
      var fallback = ""
      do {
        dynamic = try ONNXImporter.load(contentsOf: url)
      } catch {
        if requireDynamic { return Outcome(name: name, passed: false, message: "\(error)") }
        fallback = "imported per test data set with fixed input shapes (\(error))"
      }
      if let graph = dynamic, graph.inputs.count != feeds.count {
        return Outcome(
          name: name, passed: false, message: "the graph takes \(graph.inputs.count) inputs, the test \(feeds.count)")
      }
      for set in sets {
        let dir = folder.appendingPathComponent(set)
        var tensors: [ONNXConstant] = []
        for i in 0..<feeds.count { tensors.append(try read(dir.appendingPathComponent("input_\(i).pb"), decoder)) }
        var expected: [ONNXConstant] = []
        var k = 0
        while FileManager.default.fileExists(atPath: dir.appendingPathComponent("output_\(k).pb").path) {
          expected.append(try read(dir.appendingPathComponent("output_\(k).pb"), decoder))
          k += 1
        }
        if let graph = dynamic, let problem = graph.mismatch(tensors.map(\.shape)) {
          if requireDynamic { return Outcome(name: name, passed: false, message: "\(set): \(problem)") }
          (dynamic, fallback) = (nil, "imported per test data set with fixed input shapes (\(problem))")
        }
        let loaded: (graph: ONNXGraph, runtime: [Tensor<Float>])
        if let graph = dynamic {
          loaded = (graph, tensors.map(\.floats))
        } else {
          do {
            loaded = try load(url, feeds: feeds, tensors: tensors, bindAllButFirst: false)
          } catch ONNXError.invalidNode(_, _, _, let reason) where reason.contains("Lathe needs it constant") {
            // Node tests pass weights (BatchNormalization's scale, Clip's bounds) as graph inputs;
            // models hold them as initializers. Bind them so, as a model would.
            loaded = try load(url, feeds: feeds, tensors: tensors, bindAllButFirst: true)
          }
        }
        // A node the fed sizes do not fit fails this test, not the whole folder's run.
        let outputs = try loaded.graph.checkedRun(loaded.runtime)
        guard outputs.count == expected.count else {
          return Outcome(name: name, passed: false, message: "\(outputs.count) outputs, expected \(expected.count)")
        }
        for (i, (got, want)) in zip(outputs, expected).enumerated() {
          if let problem = compare(got, want.floats) {
            let note = fallback.isEmpty ? "" : " [\(fallback)]"
            return Outcome(
              name: name, passed: false, message: "\(set) output \(i): \(problem)\(note)", timings: timings)
          }
        }
        if timingRounds > 0 { timings.append(try time(set, loaded.graph, loaded.runtime, rounds: timingRounds)) }
      }
      return Outcome(name: name, passed: true, message: fallback, timings: timings)
    } catch {
      return Outcome(name: name, passed: false, message: "\(error)")
    }
  }

  /// Imports with integer inputs (indices, shapes) bound as constants, since the engine computes
  /// in fp32; returns the graph and the tensors it runs on (the rest).
  static func load(
    _ url: URL, feeds: [Onnx_ValueInfoProto], tensors: [ONNXConstant], bindAllButFirst: Bool
  ) throws -> (graph: ONNXGraph, runtime: [Tensor<Float>]) {
    var options = ONNXImportOptions()
    var runtime: [Tensor<Float>] = []
    for (k, (feed, tensor)) in zip(feeds, tensors).enumerated() {
      options.inputShapes[feed.name] = tensor.shape
      if tensor.isFloatingPoint && (k == 0 || !bindAllButFirst) {
        runtime.append(tensor.floats)
      } else {
        options.boundInputs[feed.name] = tensor
      }
    }
    let graph = try ONNXImporter.load(contentsOf: url, options: options)
    return (graph, runtime)
  }

  static func read(_ url: URL, _ decoder: TensorDecoder) throws -> ONNXConstant {
    let proto = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: url))
    do {
      return try decoder.decode(proto)
    } catch {
      throw ONNXError.invalidModel(file: url.path, reason: error.reason)
    }
  }

  /// nil when equal within tolerance; otherwise what differs.
  static func compare(_ got: Tensor<Float>, _ want: Tensor<Float>) -> String? {
    guard got.count == want.count, got.shape.reduce(1, *) == want.shape.reduce(1, *) else {
      return "shape \(got.shape), expected \(want.shape)"
    }
    if got.shape != want.shape && !(got.shape.filter { $0 != 1 } == want.shape.filter { $0 != 1 }) {
      return "shape \(got.shape), expected \(want.shape)"
    }
    let (a, b) = (got.contiguous().scalars, want.contiguous().scalars)
    for i in 0..<a.count {
      let (x, y) = (a[i], b[i])
      if x.isNaN && y.isNaN { continue }
      if x == y { continue }
      if abs(x - y) > absoluteTolerance + relativeTolerance * abs(y) {
        return "element \(i) is \(x), expected \(y)"
      }
    }
    return nil
  }
}
