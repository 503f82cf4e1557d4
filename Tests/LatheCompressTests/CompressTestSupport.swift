import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

/// Gaussian blobs around one random centre per class, as [count, 1, 8, 8] "images" (the
/// shape the digits architectures read), so tiny models learn them in an epoch or two.
func gaussianBlobs(count: Int, classes: Int = 3, noise: Float = 0.15, seed: UInt64) -> Dataset {
  var g = SeededGenerator(seed: seed)
  var cg = SeededGenerator(seed: 99)
  let centres = (0..<classes).map { _ in (0..<64).map { _ in cg.nextUniform() } }
  var labels: [Int] = []
  let inputs = Tensor<Float>(shape: [count, 1, 8, 8]) { p in
    for i in 0..<count {
      let label = i % classes
      labels.append(label)
      for j in 0..<64 { p[i * 64 + j] = centres[label][j] + noise * g.nextNormal() }
    }
  }
  return Dataset(name: "blobs", inputs: inputs, labels: labels, classCount: classes)
}

func blobSplit(train: Int = 240, test: Int = 90, classes: Int = 3) -> DatasetSplit {
  DatasetSplit(
    train: gaussianBlobs(count: train, classes: classes, seed: 1),
    test: gaussianBlobs(count: test, classes: classes, seed: 2))
}

/// A digits MLP (64-64-3) trained on the blobs: a real trained model in well under a second.
func trainedDigitsMLP(_ data: DatasetSplit, epochs: Int = 3, seed: UInt64 = 0) -> Model {
  let model = Architecture.digitsMLP.build(classCount: data.train.classCount, seed: seed)
  _ = Trainer(TrainingConfiguration(epochs: epochs, batchSize: 16, learningRate: 0.05)).train(model, on: data.train)
  return model
}

/// The repository's `samples` folder, found from this file's location.
var samplesDirectory: URL {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("samples")
}

/// A fresh temporary folder, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-ctests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// A technique configured from settings as a pipeline file would give them.
func technique(_ name: String, _ parameters: [(String, ParameterValue)] = []) throws -> any Technique {
  try Techniques.make(
    StepSpec(name: "step", technique: name, parameters: parameters.map { (key: $0.0, value: $0.1) }), file: "test")
}

func context(_ data: DatasetSplit, input: Model? = nil, isCancelled: @escaping () -> Bool = { false }) -> StepContext {
  StepContext(
    data: data,
    loadModel: { name in
      guard name == "input", let input else { throw StepFailure("no model \(name)") }
      return input.copy()
    }, isCancelled: isCancelled)
}

/// Logits of `model` for `inputs`.
func logits(_ model: Model, _ inputs: Tensor<Float>) -> [Float] { model.predict(inputs).scalars }

func assertClose(
  _ a: [Float], _ b: [Float], tolerance: Float, _ message: String = "", file: StaticString = #filePath,
  line: UInt = #line
) {
  XCTAssertEqual(a.count, b.count, message, file: file, line: line)
  let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
  XCTAssertLessThanOrEqual(worst, tolerance, "largest difference \(worst) \(message)", file: file, line: line)
}

func fileSize(_ url: URL) throws -> Int {
  try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
}

/// Saves the deployed form of `model` and loads it back the way the runner does.
func deployedRoundTrip(_ model: Model, to url: URL) throws -> Model {
  try ModelFile.save(Deployment.inferenceModel(model), to: url)
  return try ModelFile.load(from: url, builders: CompressedLayers.builders)
}
