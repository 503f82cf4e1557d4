import LatheONNX

/// `lathe export --json`: the file written and what it holds.
struct ExportReport: Encodable {
  var kind = "export"
  var output: String
  /// onnx, safetensors or gguf.
  var format: String
  /// The written file's size on disk.
  var bytes: Int
  /// Nodes of the model written (onnx and safetensors).
  var nodes: Int?
  /// gguf: the weights' type, the tensors written, the tensors that fell back to another type
  /// (each as the plain output prints it), and the reference .npz when asked for.
  var type: String?
  var tensors: Int?
  var fallbacks: [String]?
  var reference: String?
}

/// `lathe onnx-test --json`: every test folder's outcome, then the counts.
struct ONNXTestReport: Encodable {
  struct Test: Encodable {
    var name: String
    var passed: Bool
    /// Why it failed (empty when it passed, or a note such as a fixed-shape retry).
    var message: String
    var timings: [BackendTestRunner.SetTiming]

    init(_ outcome: BackendTestRunner.Outcome) {
      (name, passed, message, timings) = (outcome.name, outcome.passed, outcome.message, outcome.timings)
    }
  }

  var kind = "onnx-test"
  var passed = 0
  var failed = 0
  var tests: [Test] = []
}
