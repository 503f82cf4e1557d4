import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

final class QuantizeTechniqueTests: XCTestCase {
  func testQuantizedMLPKeepsAccuracyFoldsReLUAndRoundTrips() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let baseline = Evaluator.accuracy(of: model, on: data.test)
    XCTAssertGreaterThan(baseline, 0.95)
    let quantized = try technique("quantize", [("calibration_samples", .int(128))]).applied(
      to: model, context: context(data))
    XCTAssertEqual(abs(Evaluator.accuracy(of: quantized, on: data.test) - baseline), 0, accuracy: 0.01)
    XCTAssertFalse(quantized.nodes.contains { $0.name == "relu1" }, "relu1 should be folded")
    XCTAssertEqual((quantized.nodes.first { $0.name == "fc1" }?.layer as? QuantizedLinear)?.relu, true)
    XCTAssertEqual((quantized.nodes.first { $0.name == "fc2" }?.layer as? QuantizedLinear)?.relu, false)
    XCTAssertEqual(quantized.nodes.first { $0.name == "fc2" }?.inputs, ["fc1"])
    XCTAssertTrue(model.nodes.contains { $0.name == "relu1" }, "the input model must not change")
    XCTAssertTrue(quantized.trainableParameters.isEmpty)

    let url = try temporaryDirectory(self).appendingPathComponent("q.safetensors")
    let loaded = try deployedRoundTrip(quantized, to: url)
    let file = try SafetensorsFile.read(from: url)
    XCTAssertEqual(file["fc1.weight"]?.dtype, .int8)
    XCTAssertEqual(file["fc2.weight"]?.dtype, .int8)
    XCTAssertEqual(file["fc1.input_zero_point"]?.dtype, .int32)
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
    // Four times smaller weights than fp32, give or take the scales and biases.
    let fp32 = url.deletingLastPathComponent().appendingPathComponent("f.safetensors")
    try ModelFile.save(model, to: fp32)
    XCTAssertLessThan(Double(try fileSize(url)), Double(try fileSize(fp32)) * 0.4)
  }

  func testDynamicActivationsNeedNoCalibration() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    // Calibration would have to read training data: give it none.
    let empty = DatasetSplit(train: data.train.slice(0..<0), test: data.test)
    let quantized = try technique(
      "quantize", [("activations", .string("dynamic")), ("granularity", .string("per-tensor"))]
    )
    .applied(to: model, context: context(empty))
    let layer = quantized.nodes.first { $0.name == "fc1" }?.layer as? QuantizedLinear
    XCTAssertEqual(layer?.input, .dynamic(symmetric: false))
    XCTAssertEqual(layer?.weights.granularity, .perTensor)
    XCTAssertEqual(
      Evaluator.accuracy(of: quantized, on: data.test), Evaluator.accuracy(of: model, on: data.test), accuracy: 0.01)
    let url = try temporaryDirectory(self).appendingPathComponent("d.safetensors")
    let loaded = try deployedRoundTrip(quantized, to: url)
    XCTAssertNil(try SafetensorsFile.read(from: url)["fc1.input_scale"])
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
  }

  func testQuantizedConvNetAgreesWithFloat() throws {
    let data = blobSplit()
    let model = Architecture.digitsCNN.build(classCount: 3, seed: 0)
    _ = Trainer(TrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 0.002, optimizer: .adam())).train(
      model, on: data.train)
    let quantized = try technique("quantize", [("calibration", .string("percentile"))]).applied(
      to: model, context: context(data))
    XCTAssertTrue(quantized.nodes.first { $0.name == "conv1" }?.layer is QuantizedConv2d)
    let float = Evaluator.predictions(of: model, on: data.test)
    let int8 = Evaluator.predictions(of: quantized, on: data.test)
    XCTAssertGreaterThanOrEqual(zip(float, int8).filter { $0 == $1 }.count, data.test.count * 97 / 100)
    let loaded = try deployedRoundTrip(
      quantized, to: try temporaryDirectory(self).appendingPathComponent("c.safetensors"))
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
  }

  func testUnknownLayerIsRejected() throws {
    let data = blobSplit()
    XCTAssertThrowsError(
      try technique("quantize", [("layers", .list([.string("fc9")]))]).applied(
        to: trainedDigitsMLP(data, epochs: 1), context: context(data))
    ) { error in
      XCTAssertTrue("\(error)".contains("fc9") && "\(error)".contains("fc1"), "\(error)")
    }
  }
}
