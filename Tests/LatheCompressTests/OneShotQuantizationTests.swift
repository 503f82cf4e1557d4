import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// GPTQ and AWQ against round-to-nearest on the bundled digits MLP and the digits set: each
/// method's layer output error on held-out (test split) inputs.
final class OneShotQuantizationTests: XCTestCase {
  func testGPTQBeatsRoundToNearestAtFourAndThreeBits() throws {
    let (model, data) = try bundledDigitsMLP()
    for bits in [4, 3] {
      let settings: [(String, ParameterValue)] = [("bits", .int(bits)), ("speed_check", .bool(false))]
      let rtn = try technique("weight-only", settings).applied(to: model, context: context(data))
      let gptq = try technique("weight-only", settings + [("method", .string("gptq"))]).applied(
        to: model, context: context(data))
      for name in ["fc1", "fc2"] {
        // Held-out inputs as the float model gives them.
        let x = layerInputs(model, name, data.test)
        let w = appliedWeight(model, name)
        let rtnError = outputError(x, w, appliedWeight(rtn, name))
        let gptqError = outputError(x, w, appliedWeight(gptq, name))
        XCTAssertLessThan(gptqError, 0.8 * rtnError, "\(name) int\(bits): GPTQ \(gptqError), RTN \(rtnError)")
      }
      // And the network's outputs follow: closer logits to the float model's.
      let reference = model.predict(data.test.inputs)
      let rtnLogits = outputError(reference, rtn.predict(data.test.inputs))
      let gptqLogits = outputError(reference, gptq.predict(data.test.inputs))
      XCTAssertLessThan(gptqLogits, rtnLogits, "int\(bits) logits: GPTQ \(gptqLogits), RTN \(rtnLogits)")
    }
  }

  func testGPTQFilesAreTheSizeOfRoundToNearestFiles() throws {
    let (model, data) = try bundledDigitsMLP()
    let dir = try temporaryDirectory(self)
    var sizes: [String: Int] = [:]
    for bits in [4, 3] {
      var levels: [String: [Int8]] = [:]
      for method in ["rtn", "gptq"] {
        let q = try technique(
          "weight-only", [("method", .string(method)), ("bits", .int(bits)), ("speed_check", .bool(false))]
        ).applied(to: model, context: context(data))
        let url = dir.appendingPathComponent("\(method)\(bits).safetensors")
        let loaded = try deployedRoundTrip(q, to: url)
        XCTAssertEqual(loaded.predict(data.test.inputs), q.predict(data.test.inputs), "\(method) int\(bits)")
        sizes["\(method)\(bits)"] = try fileSize(url)
        let fc1 = try XCTUnwrap(layer(loaded, "fc1") as? WeightOnlyLinear)
        XCTAssertEqual(fc1.weights.bits, bits)
        XCTAssertNil(fc1.inputScale)
        levels[method] = fc1.weights.values
        // Stored bits per weight: the levels plus one fp32 scale per 32 inputs.
        let file = try SafetensorsFile.read(from: url)
        let stored = try XCTUnwrap(file["fc1.weight"]).byteCount + file["fc1.weight_scale"]!.byteCount
        XCTAssertEqual(Double(stored * 8) / Double(64 * 64), Double(bits) + 1, accuracy: 1e-9)
      }
      XCTAssertEqual(sizes["rtn\(bits)"], sizes["gptq\(bits)"], "int\(bits): same stored form")
      XCTAssertNotEqual(levels["rtn"], levels["gptq"], "GPTQ chooses other integers")
    }
    XCTAssertLessThan(sizes["gptq3"]!, sizes["gptq4"]!)
  }

  func testActOrderIsNoWorseWithAnOutlierInputChannel() throws {
    let (model, data) = try bundledDigitsMLP()
    let weight = appliedWeight(model, "fc1")
    // Pixel 27 (mid-image) made 25 times larger: a channel whose Hessian diagonal dwarfs the rest.
    let outlier = [27]
    let calibration = planted(layerInputs(model, "fc1", data.train.slice(0..<256)), channels: outlier, factor: 25)
    let heldOut = planted(layerInputs(model, "fc1", data.test), channels: outlier, factor: 25)
    let h = statistics(calibration).hessian
    for bits in [4, 3] {
      var errors: [Bool: Double] = [:]
      for actOrder in [false, true] {
        let q = try GPTQ.quantize(
          weight, hessian: h, settings: GPTQ.Settings(bits: bits, groupSize: 32, actOrder: actOrder))
        errors[actOrder] = outputError(heldOut, weight, q.dequantized())
      }
      XCTAssertLessThanOrEqual(errors[true]!, errors[false]!, "int\(bits): act_order \(errors)")
    }
  }

  func testActOrderKeepsGroupsOfConsecutiveInputsWithStaticScales() throws {
    let (model, data) = try bundledDigitsMLP()
    let weight = appliedWeight(model, "fc1")
    let h = statistics(layerInputs(model, "fc1", data.train.slice(0..<256))).hessian
    let q = try GPTQ.quantize(weight, hessian: h, settings: GPTQ.Settings(bits: 4, groupSize: 32, actOrder: true))
    // Static scales: each group's scale is RTN's, from the original weights in their order
    // (inputs that are always zero, pixels at the border of every digit, have their weights
    // zeroed first).
    let dead = Set((0..<64).filter { h[$0, $0] == 0 })
    XCTAssertFalse(dead.isEmpty)
    let live = Tensor(shape: weight.shape, scalars: weight.scalars.enumerated().map { dead.contains($0 % 64) ? 0 : $1 })
    let rtn = GroupQuantizedWeights(quantizing: live, bits: 4, groupSize: 32)
    XCTAssertEqual(q.scales, rtn.scales)
    XCTAssertNotEqual(q.values, rtn.values)
    for (i, level) in q.values.enumerated() where dead.contains(i % 64) { XCTAssertEqual(level, 0) }
  }

  func testAWQBeatsRoundToNearestWithSalientChannels() throws {
    let (model, data) = try bundledDigitsMLP()
    let weight = appliedWeight(model, "fc1")
    // Six channels with activations 30 times larger than the rest.
    let salient = [19, 20, 27, 28, 35, 44]
    let calibration = planted(layerInputs(model, "fc1", data.train.slice(0..<256)), channels: salient, factor: 30)
    let heldOut = planted(layerInputs(model, "fc1", data.test), channels: salient, factor: 30)
    for bits in [4, 3] {
      let rtn = GroupQuantizedWeights(quantizing: weight, bits: bits, groupSize: 32)
      let rtnError = outputError(heldOut, weight, rtn.dequantized())
      for clip in [false, true] {
        let awq = AWQ.quantize(weight, statistics: statistics(calibration), bits: bits, groupSize: 32, clip: clip)
        let layer = WeightOnlyLinear(
          weights: awq.weights, bias: nil, inputScale: Tensor(shape: [64], scalars: awq.inputScale))
        let awqError = outputError(heldOut, weight, layer.floatWeight())
        XCTAssertGreaterThan(awq.alpha, 0, "int\(bits): a salient channel calls for scaling")
        XCTAssertLessThan(awqError, 0.8 * rtnError, "int\(bits) clip \(clip): AWQ \(awqError), RTN \(rtnError)")
        // The scales are centred: max·min = 1.
        XCTAssertEqual(Double(awq.inputScale.max()! * awq.inputScale.min()!), 1, accuracy: 1e-4)
      }
    }
  }

  func testAChannelSilentInCalibrationIsScaledLikeTheQuietestLiveOne() {
    let s = AWQ.channelScale([0, 0.01, 1, 4], alpha: 0.5)
    XCTAssertEqual(s[0], s[1], "not the 1e-4 floor")
    XCTAssertEqual(Double(s[3] / s[2]), 2, accuracy: 1e-5)
    XCTAssertEqual(Double(s.max()! * s.min()!), 1, accuracy: 1e-5)
    XCTAssertEqual(AWQ.channelScale([0, 0.01, 1, 4], alpha: 0), [1, 1, 1, 1], "α = 0 is round-to-nearest")
  }

  func testAWQStepStoresItsScalesAndReloads() throws {
    let (model, data) = try bundledDigitsMLP()
    let ctx = context(data)
    let awq = try technique(
      "weight-only", [("method", .string("awq")), ("bits", .int(4)), ("speed_check", .bool(false))]
    ).applied(to: model, context: ctx)
    let dir = try temporaryDirectory(self)
    let url = dir.appendingPathComponent("awq.safetensors")
    let loaded = try deployedRoundTrip(awq, to: url)
    XCTAssertEqual(loaded.predict(data.test.inputs), awq.predict(data.test.inputs))
    let file = try SafetensorsFile.read(from: url)
    XCTAssertEqual(file["fc1.input_scale"]?.shape, [64])
    XCTAssertEqual(file["fc2.input_scale"]?.shape, [64])
    XCTAssertEqual(
      Evaluator.accuracy(of: awq, on: data.test), Evaluator.accuracy(of: model, on: data.test), accuracy: 0.03)
    let extra = ctx.findings.metricsExtra
    XCTAssertNotNil(extra["awq_alpha_fc1"])
    XCTAssertLessThan(try XCTUnwrap(extra["output_error_fc2"]), 0.05)
  }

  func testGPTQKeepsTheZerosOfAPrunedLayer() throws {
    let (model, data) = try bundledDigitsMLP()
    let pruned = try technique("prune", [("sparsity", .float(0.5))]).applied(to: model, context: context(data))
    let mask = try XCTUnwrap((layer(pruned, "fc1") as? Linear)?.weight.mask).scalars
    let q = try technique(
      "weight-only", [("method", .string("gptq")), ("layers", .list([.string("fc1")])), ("speed_check", .bool(false))]
    ).applied(to: pruned, context: context(data))
    let levels = try XCTUnwrap(layer(q, "fc1") as? WeightOnlyLinear).weights.values
    for (level, keep) in zip(levels, mask) where keep == 0 { XCTAssertEqual(level, 0) }
    XCTAssertGreaterThan(zip(levels, mask).filter { $1 == 1 && $0 != 0 }.count, 1000)
  }

  func testMalformedThreeBitWeightsAreRefused() throws {
    let weight = Tensor<Float>(shape: [2, 40], scalars: (0..<80).map { Float($0) / 80 - 0.5 })
    let good = Dictionary(
      uniqueKeysWithValues: GroupQuantizedWeights(quantizing: weight, bits: 3, groupSize: 32).storedTensors)
    XCTAssertEqual(good["weight"]?.shape, [2, 15], "40 levels of 3 bits: 15 bytes a row")
    func restore(_ tensors: [String: AnyTensor]) throws {
      _ = try GroupQuantizedWeights.restore(from: tensors, rows: 2, columns: 40, bits: 3, groupSize: 32, node: "fc")
    }
    XCTAssertNoThrow(try restore(good))
    var bad = good
    bad["weight"] = .uint8(Tensor(shape: [2, 20], scalars: [UInt8](repeating: 0, count: 40)))
    XCTAssertThrowsError(try restore(bad)) {
      XCTAssertEqual($0 as? ModelError, .shapeMismatch(parameter: "fc.weight", expected: [2, 15], found: [2, 20]))
    }
    bad["weight"] = .int8(Tensor(shape: [2, 40], scalars: [Int8](repeating: 0, count: 80)))
    XCTAssertThrowsError(try restore(bad)) { XCTAssertTrue("\($0)".contains("U8"), "\($0)") }
  }

  func testSettingErrorsNameTheirKey() throws {
    func message(_ settings: [(String, ParameterValue)]) -> String {
      do {
        _ = try technique("weight-only", settings)
        return ""
      } catch { return "\(error)" }
    }
    XCTAssertTrue(message([("method", .string("hqq"))]).contains("method: expected one of rtn, gptq, awq"))
    XCTAssertTrue(message([("method", .string("gptq")), ("bits", .int(9))]).contains("bits: 9 bits"))
    XCTAssertTrue(message([("method", .string("gptq")), ("bits", .int(1))]).contains("bits: 1 is outside 2...32"))
    XCTAssertTrue(message([("act_order", .bool(true))]).contains("act_order: act_order applies to method: gptq"))
    XCTAssertTrue(message([("method", .string("gptq")), ("clip", .bool(true))]).contains("clip: "))
    XCTAssertTrue(message([("damp", .float(0.1))]).contains("damp: "))
    // Calibration needs a train split.
    let (model, data) = try bundledDigitsMLP()
    let empty = DatasetSplit(train: data.train.slice(0..<0), test: data.test)
    XCTAssertThrowsError(
      try technique("weight-only", [("method", .string("gptq"))]).applied(to: model, context: context(empty))
    ) { XCTAssertTrue("\($0)".contains("method: gptq calibrates on the train split"), "\($0)") }
  }
}

/// ‖a − b‖² over all elements.
func outputError(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Double {
  zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}
