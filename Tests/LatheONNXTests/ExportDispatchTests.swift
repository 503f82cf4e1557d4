import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

/// The exporter writes a layer through its `ONNXExportable` conformance, and names a layer that
/// has none instead of writing something else for it.
final class ExportDispatchTests: XCTestCase {
  /// A layer type no export file knows about.
  final class Unexported: Layer {
    var spec: LayerSpec { LayerSpec(op: "test.unexported") }
    func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { inputs[0] }
    func copy() -> Layer { Unexported() }
  }

  func model(_ layer: Layer) throws -> Model {
    var g = SeededGenerator(seed: 1)
    return try Model(
      architecture: "test", inputShape: [8], classCount: 4,
      sequence: [
        ("fc", Linear(inputs: 8, outputs: 4, generator: &g)), ("odd", layer), ("softmax", Function(.softmax)),
      ])
  }

  func testLayerWithoutAnONNXFormIsNamedInTheError() throws {
    XCTAssertThrowsError(try ONNXExporter.data(model(Unexported()))) { error in
      XCTAssertEqual(
        error as? ONNXError, .unexportable(node: "odd", op: "test.unexported", reason: "no ONNX form for this layer"))
    }
    // The training-only wrapper has no ONNX form either: it is converted before a model is saved.
    let observer = RangeObserver(low: 0, high: 1, decay: 0.9)
    let fake = FakeQuantizedLayer(wrapping: Linear(weight: Parameter(.zeros([4, 4])), bias: nil), observer: observer)
    XCTAssertThrowsError(try ONNXExporter.data(model(fake))) { error in
      XCTAssertTrue("\(error)".contains("\"odd\" (fake_quant_linear)"), "\(error)")
    }
  }

  func testMinimumOpsetComesFromTheLayers() throws {
    let weightOnly = WeightOnlyLinear(
      weights: GroupQuantizedWeights(quantizing: Tensor(repeating: 0.5, shape: [4, 32]), bits: 4, groupSize: 32),
      bias: nil)
    XCTAssertEqual(LayerExport.minimumOpset(weightOnly), 21)
    XCTAssertEqual(LayerExport.minimumOpset(Function(.relu)), ONNXExporter.opsetVersion)
    XCTAssertEqual(LayerExport.minimumOpset(Unexported()), ONNXExporter.opsetVersion)
    let training = ONNXBatchNormTraining(
      .mean, scale: .zeros([2]), bias: .zeros([2]), mean: .zeros([2]), variance: .zeros([2]), epsilon: 1e-5,
      momentum: 0.9)
    XCTAssertEqual(LayerExport.minimumOpset(training), 14)
    let proto = try ONNXExporter.proto(model(Function(.relu)))
    XCTAssertEqual(proto.opsetImport.first?.version, Int64(ONNXExporter.opsetVersion))
  }
}
