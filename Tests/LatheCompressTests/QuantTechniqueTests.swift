import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// The qat and weight-only techniques end to end: accuracy, layers, files, reloads.
final class QuantTechniqueTests: XCTestCase {
  func testQATKeepsAccuracyAndSavesInt8LayersThatReloadIdentically() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let baseline = Evaluator.accuracy(of: model, on: data.test)
    let step = context(data)
    let qat = try technique("qat", [("epochs", .int(1)), ("lr", .float(0.01)), ("calibration_samples", .int(128))])
      .applied(to: model, context: step)
    XCTAssertEqual(Evaluator.accuracy(of: qat, on: data.test), baseline, accuracy: 0.01)
    XCTAssertNotNil(step.findings.ptqAccuracy)
    XCTAssertTrue(qat.nodes.allSatisfy { !($0.layer is FakeQuantizedLayer) && !($0.layer is Linear) })
    XCTAssertEqual((qat.nodes.first { $0.name == "fc1" }?.layer as? QuantizedLinear)?.relu, true)
    XCTAssertTrue(model.nodes.first { $0.name == "fc1" }?.layer is Linear, "the input model must not change")
    let url = try temporaryDirectory(self).appendingPathComponent("qat.safetensors")
    let loaded = try deployedRoundTrip(qat, to: url)
    XCTAssertEqual(try SafetensorsFile.read(from: url)["fc1.weight"]?.dtype, .int8)
    XCTAssertEqual(loaded.predict(data.test.inputs), qat.predict(data.test.inputs))
  }

  func testQATTrainsAConvNet() throws {
    let data = blobSplit()
    let model = Architecture.digitsCNN.build(classCount: 3, seed: 0)
    _ = Trainer(TrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 0.002, optimizer: .adam())).train(
      model, on: data.train)
    let qat = try technique("qat", [("epochs", .int(1)), ("compare_ptq", .bool(false))]).applied(
      to: model, context: context(data))
    XCTAssertTrue(qat.nodes.first { $0.name == "conv1" }?.layer is QuantizedConv2d)
    XCTAssertEqual(
      Evaluator.accuracy(of: qat, on: data.test), Evaluator.accuracy(of: model, on: data.test), accuracy: 0.02)
  }

  func testWeightOnlyFileSizesFollowTheBitWidths() throws {
    let data = blobSplit()
    // 64 inputs: two whole groups of 32 per row.
    let model = trainedDigitsMLP(data)
    let dir = try temporaryDirectory(self)
    var weightBytes: [Int: Int] = [:]
    for bits in [32, 8, 4] {
      let q = try technique("weight-only", [("bits", .int(bits))]).applied(to: model, context: context(data))
      let url = dir.appendingPathComponent("w\(bits).safetensors")
      let loaded = try deployedRoundTrip(q, to: url)
      XCTAssertEqual(loaded.predict(data.test.inputs), q.predict(data.test.inputs))
      XCTAssertEqual(
        Evaluator.accuracy(of: q, on: data.test), Evaluator.accuracy(of: model, on: data.test), accuracy: 0.02)
      let file = try SafetensorsFile.read(from: url)
      weightBytes[bits] = try ["fc1", "fc2"].reduce(0) { total, layer in
        let w = try XCTUnwrap(file["\(layer).weight"])
        return total + w.byteCount + (file["\(layer).weight_scale"]?.byteCount ?? 0)
      }
      if bits != 32 {
        XCTAssertEqual(file["fc1.weight"]?.dtype, bits == 8 ? .int8 : .uint8)
        XCTAssertEqual(file["fc1.weight_scale"]?.shape, [64, 2])
      }
    }
    // Per weight: 32 bits, 8 + 32/32 = 9 bits, 4 + 1 = 5 bits (fp32 group scales).
    XCTAssertEqual(Double(weightBytes[32]!) / Double(weightBytes[8]!), 32.0 / 9, accuracy: 1e-9)
    XCTAssertEqual(Double(weightBytes[32]!) / Double(weightBytes[4]!), 32.0 / 5, accuracy: 1e-9)
    let sizes = try [32, 8, 4].map { try fileSize(dir.appendingPathComponent("w\($0).safetensors")) }
    XCTAssertTrue(sizes[2] < sizes[1] && sizes[1] < sizes[0], "\(sizes)")
  }

  func testMixedPrecisionPicksTheStoragePerLayer() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let names = model.nodes.filter { $0.layer is Linear }.map(\.name)
    XCTAssertEqual(names, ["fc1", "fc2"])
    let dir = try temporaryDirectory(self)
    for (first, second) in [(4, 8), (32, 4)] {
      let q = try technique(
        "weight-only", [("bits", .map([(key: "fc1", value: .int(first)), (key: "fc2", value: .int(second))]))]
      ).applied(to: model, context: context(data))
      let url = dir.appendingPathComponent("mixed\(first).safetensors")
      let loaded = try deployedRoundTrip(q, to: url)
      let file = try SafetensorsFile.read(from: url)
      for (name, bits) in [("fc1", first), ("fc2", second)] {
        let layer = q.nodes.first { $0.name == name }!.layer
        if bits == 32 {
          XCTAssertTrue(layer is Linear)
        } else {
          XCTAssertEqual((layer as? WeightOnlyLinear)?.weights.bits, bits)
        }
        let dtype: DType = bits == 32 ? .float32 : bits == 8 ? .int8 : .uint8
        XCTAssertEqual(file["\(name).weight"]?.dtype, dtype, "\(name) at \(bits) bits")
      }
      XCTAssertEqual(loaded.predict(data.test.inputs), q.predict(data.test.inputs))
    }
  }

  func testBadSettingsAreRejected() throws {
    XCTAssertThrowsError(try technique("weight-only", [("bits", .int(9))])) {
      XCTAssertTrue("\($0)".contains("9 bits: expected 2 to 8, or 32"), "\($0)")
    }
    XCTAssertThrowsError(try technique("weight-only", [("group_size", .int(48))])) {
      XCTAssertTrue("\($0)".contains("multiple of 32"))
    }
    let data = blobSplit()
    XCTAssertThrowsError(
      try technique("weight-only", [("bits", .map([(key: "fc9", value: .int(8))]))]).applied(
        to: trainedDigitsMLP(data, epochs: 1), context: context(data))
    ) { XCTAssertTrue("\($0)".contains("fc9"), "\($0)") }
  }

  func testMalformedStoredTensorsThrowModelError() throws {
    let weight = Tensor<Float>(shape: [2, 40], scalars: (0..<80).map { Float($0) / 80 - 0.5 })
    let good = Dictionary(
      uniqueKeysWithValues: GroupQuantizedWeights(quantizing: weight, bits: 8, groupSize: 32).storedTensors)
    func restore(_ tensors: [String: AnyTensor], bits: Int = 8) throws {
      _ = try GroupQuantizedWeights.restore(from: tensors, rows: 2, columns: 40, bits: bits, groupSize: 32, node: "fc")
    }
    XCTAssertNoThrow(try restore(good))
    var bad = good
    bad["weight"] = .int8(Tensor(shape: [2, 40], scalars: [Int8](repeating: -128, count: 80)))
    XCTAssertThrowsError(try restore(bad)) { XCTAssertTrue($0 is ModelError, "\($0)") }
    bad = good
    bad["weight_scale"] = .float32(Tensor(shape: [2, 2], scalars: [1, 0, 1, 1]))
    XCTAssertThrowsError(try restore(bad)) { XCTAssertEqual("\($0)".contains("positive"), true) }
    bad = good
    bad["weight_scale"] = .float32(Tensor(shape: [2, 1], scalars: [1, 1]))
    XCTAssertThrowsError(try restore(bad)) { XCTAssertTrue($0 is ModelError) }
    bad = good
    bad["weight"] = .uint8(Tensor(shape: [2, 40], scalars: [UInt8](repeating: 0, count: 80)))
    XCTAssertThrowsError(try restore(bad)) { XCTAssertTrue("\($0)".contains("I8"), "\($0)") }
    XCTAssertThrowsError(try restore(good, bits: 4)) { XCTAssertTrue($0 is ModelError) }
    bad = good
    bad["weight_scale"] = nil
    XCTAssertThrowsError(try restore(bad)) { XCTAssertEqual($0 as? ModelError, .missingParameter("fc.weight_scale")) }
    // A spec with an unsupported width or group size is refused before any tensor is read.
    for (key, value) in [("bits", AttributeValue.int(9)), ("bits", .int(1)), ("group_size", .int(40))] {
      var attributes: [String: AttributeValue] = [
        "in": .int(40), "out": .int(2), "bias": .bool(true), "bits": .int(8),
        "group_size": .int(32),
      ]
      attributes[key] = value
      XCTAssertThrowsError(try CompressedLayers().makeLayer(LayerSpec(op: "wq_linear", attributes: attributes))) {
        XCTAssertTrue($0 is ModelError)
      }
    }
  }
}
