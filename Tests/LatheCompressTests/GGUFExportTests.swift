import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

final class GGUFExportTests: XCTestCase {
  /// Linear layers 256, 96 and 40 wide: whole Q4_K super-blocks, whole 32-blocks only, neither.
  private func mixedWidths() throws -> Model {
    var g = SeededGenerator(seed: 5)
    return try Model(
      architecture: "mixed", inputShape: [256], classCount: 3,
      sequence: [
        ("a", Linear(inputs: 256, outputs: 96, generator: &g)), ("relu", Function(.relu)),
        ("b", Linear(inputs: 96, outputs: 40, generator: &g)),
        ("c", Linear(inputs: 40, outputs: 3, generator: &g)),
      ])
  }

  func testDigitsMLPAsQ4_0ReadsBackAsTheReferenceSays() throws {
    let model = Architecture.digitsMLP.build(seed: 3)
    let url = try temporaryDirectory(self).appendingPathComponent("mlp.gguf")
    let output = try GGUFExport.write(model, to: url, options: GGUFExportOptions(type: .q40, name: "digits"))
    XCTAssertEqual(output.fallbacks, [])

    let file = try GGUFFile.read(from: url)
    XCTAssertEqual(file.tensors.map(\.name), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    XCTAssertEqual(file.tensors.map(\.type), [.q40, .f32, .q40, .f32], "1-D tensors stay F32")
    XCTAssertEqual(file.tensors.map(\.dimensions), [[64, 64], [64], [64, 10], [10]])
    XCTAssertEqual(file["general.architecture"], .string("digits-mlp"))
    XCTAssertEqual(file["general.name"], .string("digits"))
    XCTAssertEqual(file["general.file_type"], .uint32(2))
    XCTAssertEqual(file["general.quantization_version"], .uint32(2))
    for (info, (_, parameter)) in zip(file.tensors, model.namedParameters) {
      let values = try file.floats(of: info)
      XCTAssertEqual(values, output.reference[info.name]?.values, info.name)
      XCTAssertEqual(output.reference[info.name]?.shape, parameter.shape, info.name)
      let original = parameter.value.withUnsafeBufferPointer { Array($0) }
      if info.type == .f32 {
        XCTAssertEqual(values, original, info.name)
      } else {
        // Q4_0: within one step (max|x| / 8) of the original, and not equal to it.
        let bound = original.map(abs).max()! / 8 * 1.01
        XCTAssertLessThanOrEqual(zip(values, original).map { abs($0 - $1) }.max()!, bound, info.name)
        XCTAssertNotEqual(values, original, info.name)
      }
    }
  }

  func testRowsThatAreNotWholeBlocksFallBackAndAreReported() throws {
    let output = try GGUFExport.convert(try mixedWidths(), options: GGUFExportOptions(type: .q4K, name: "m"))
    XCTAssertEqual(output.tensors.map(\.type), [.q4K, .f32, .q80, .f32, .f32, .f32])
    XCTAssertEqual(output.fallbacks.map(\.tensor), ["b.weight", "c.weight"])
    XCTAssertEqual(output.fallbacks.map(\.written), [.q80, .f32])
    XCTAssertTrue(output.fallbacks[0].description.contains("rows of 96 are not a multiple of 256"))
    XCTAssertEqual(output.metadata.first { $0.key == "general.file_type" }?.value, .uint32(14))

    let q80 = try GGUFExport.convert(try mixedWidths(), options: GGUFExportOptions(type: .q80, name: "m"))
    XCTAssertEqual(q80.tensors.map(\.type), [.q80, .f32, .q80, .f32, .f32, .f32])
    XCTAssertEqual(q80.fallbacks.map(\.tensor), ["c.weight"])

    // F16 and F32 take any width; 1-D tensors stay F32 all the same.
    let f16 = try GGUFExport.convert(try mixedWidths(), options: GGUFExportOptions(type: .f16, name: "m"))
    XCTAssertEqual(f16.tensors.map(\.type), [.f16, .f32, .f16, .f32, .f16, .f32])
    XCTAssertEqual(f16.fallbacks, [])
  }

  func testEveryTypeRoundTripsWithinItsPrecision() throws {
    let model = try mixedWidths()
    let original = model.parameter(named: "a.weight")!.value.withUnsafeBufferPointer { Array($0) }
    let norm = original.map { $0 * $0 }.reduce(0, +).squareRoot()
    for (type, relative) in [(GGMLType.f32, Float(0)), (.f16, 1e-3), (.q80, 0.01), (.q40, 0.12), (.q4K, 0.1)] {
      let output = try GGUFExport.convert(model, options: GGUFExportOptions(type: type, name: "m"))
      let decoded = try XCTUnwrap(output.reference["a.weight"]).values
      let error = zip(decoded, original).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
      XCTAssertLessThanOrEqual(error, relative * norm, "\(type)")
      XCTAssertEqual(output.tensors[0].data.count, 96 * 256 / type.blockSize * type.blockBytes, "\(type)")
    }
  }

  func testNamesMapAndMetadataFromTheCaller() throws {
    let options = GGUFExportOptions(
      type: .q80, name: "m", architecture: "gpt2",
      names: .table(["a.weight": "blk.0.ffn_up.weight", "a.bias": "blk.0.ffn_up.bias"]),
      metadata: [("general.name", .string("renamed")), ("gpt2.context_length", .uint32(1024))])
    let output = try GGUFExport.convert(try mixedWidths(), options: options)
    XCTAssertEqual(
      output.tensors.map(\.name),
      ["blk.0.ffn_up.weight", "blk.0.ffn_up.bias", "b.weight", "b.bias", "c.weight", "c.bias"])
    XCTAssertNotNil(output.reference["blk.0.ffn_up.weight"])
    XCTAssertEqual(
      output.metadata.map(\.key).prefix(5),
      [
        "general.architecture", "general.name", "general.file_type", "general.quantization_version",
        "gpt2.context_length",
      ])
    XCTAssertEqual(output.metadata[0].value, .string("gpt2"))
    XCTAssertEqual(output.metadata[1].value, .string("renamed"))
  }

  func testTwoParametersMappedToOneNameOrANonFiniteValueAreRefused() throws {
    let clash = GGUFExportOptions(type: .f32, name: "m", names: .table(["a.bias": "x", "b.bias": "x"]))
    XCTAssertThrowsError(try GGUFExport.convert(try mixedWidths(), options: clash)) {
      XCTAssertTrue("\($0)".contains("both a.bias and b.bias"), "\($0)")
    }
    let model = try mixedWidths()
    model.parameter(named: "b.weight")!.value.withUnsafeMutableBufferPointer { $0[7] = .nan }
    XCTAssertThrowsError(try GGUFExport.convert(model, options: GGUFExportOptions(type: .q80, name: "m"))) {
      XCTAssertTrue("\($0)".contains("b.weight"), "\($0)")
    }
  }

  func testACompressedLayerWritesItsDenseWeightAndBias() throws {
    let model = try mixedWidths()
    let weight = model.parameter(named: "a.weight")!
    // Three zeros in four: stored sparse once deployed.
    weight.value.withUnsafeMutableBufferPointer { w in for i in w.indices where i % 4 != 0 { w[i] = 0 } }
    let dense = weight.value.withUnsafeBufferPointer { Array($0) }
    let bias = model.parameter(named: "a.bias")!
    bias.value.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = Float(i) / 10 } }
    let deployed = Deployment.inferenceModel(model)
    XCTAssertFalse(deployed.nodes[0].layer is Linear, "the first layer is stored sparse")

    let output = try GGUFExport.convert(deployed, options: GGUFExportOptions(type: .f32, name: "m"))
    XCTAssertEqual(output.tensors.map(\.name).prefix(2), ["a.weight", "a.bias"])
    XCTAssertEqual(output.reference["a.weight"]?.values, dense)
    XCTAssertEqual(output.reference["a.weight"]?.shape, [96, 256])
    XCTAssertEqual(output.reference["a.bias"]?.values, (0..<96).map { Float($0) / 10 })
  }
}
