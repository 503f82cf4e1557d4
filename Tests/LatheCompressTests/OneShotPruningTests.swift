import Foundation
import LatheIO
import LatheTensor
import LatheTestSupport
import XCTest

@testable import LatheCompress

/// Wanda, SparseGPT and N:M masks on the bundled digits MLP and the digits set, compared by the
/// layer's output error on held-out (test split) inputs.
final class OneShotPruningTests: XCTestCase {
  /// fc1's weight with `mask` applied.
  func masked(_ weight: Tensor<Float>, _ mask: [Float]) -> Tensor<Float> {
    Tensor(shape: weight.shape, scalars: zip(weight.scalars, mask).map { $0 * $1 })
  }

  /// Magnitude pruning's mask for `weight` at `sparsity` (the existing layer-wise method).
  func magnitudeMask(_ weight: Tensor<Float>, sparsity: Double) -> [Float] {
    let parameter = Parameter(weight)
    MagnitudePruning.pruneLayers([("fc", parameter)]) { _ in sparsity }
    return parameter.mask!.scalars
  }

  func testWandaBeatsMagnitudeWhenSomeChannelsAreLarge() throws {
    let (model, data) = try bundledDigitsMLP()
    let weight = appliedWeight(model, "fc1")
    let large = [19, 20, 27, 28, 35, 44]
    let calibration = planted(layerInputs(model, "fc1", data.train.slice(0..<256)), channels: large, factor: 20)
    let heldOut = planted(layerInputs(model, "fc1", data.test), channels: large, factor: 20)
    let wanda = Wanda.mask(
      weight, channelNorms: statistics(calibration).channelNorms, sparsity: 0.5, pattern: .unstructured)
    let magnitude = magnitudeMask(weight, sparsity: 0.5)
    XCTAssertEqual(wanda.filter { $0 == 0 }.count, 64 * 32, "half of every row")
    for r in 0..<64 { XCTAssertEqual(wanda[(r * 64)..<(r * 64 + 64)].filter { $0 == 0 }.count, 32) }
    let wandaError = outputError(heldOut, weight, masked(weight, wanda))
    let magnitudeError = outputError(heldOut, weight, masked(weight, magnitude))
    XCTAssertLessThan(wandaError, 0.5 * magnitudeError, "Wanda \(wandaError), magnitude \(magnitudeError)")
  }

  func testSparseGPTBeatsWandaAndMagnitude() throws {
    let (model, data) = try bundledDigitsMLP()
    for name in ["fc1", "fc2"] {
      let weight = appliedWeight(model, name)
      let calibration = statistics(layerInputs(model, name, data.train.slice(0..<512)))
      let heldOut = layerInputs(model, name, data.test)
      for pattern in [SparsityPattern.unstructured, .keep(kept: 2, group: 4)] {
        let sparse = try SparseGPT.prune(weight, hessian: calibration.hessian, sparsity: 0.5, pattern: pattern)
        let sparseError = outputError(heldOut, weight, Tensor(shape: weight.shape, scalars: sparse.weight))
        let wanda = Wanda.mask(weight, channelNorms: calibration.channelNorms, sparsity: 0.5, pattern: pattern)
        let wandaError = outputError(heldOut, weight, masked(weight, wanda))
        let magnitude =
          pattern == .unstructured
          ? magnitudeMask(weight, sparsity: 0.5)
          : pattern.mask(
            scores: weight.scalars.map { Double(abs($0)) }, rows: weight.shape[0], columns: 64, sparsity: 0.5)
        let magnitudeError = outputError(heldOut, weight, masked(weight, magnitude))
        let label = "\(name) \(pattern): SparseGPT \(sparseError), Wanda \(wandaError), magnitude \(magnitudeError)"
        XCTAssertLessThan(sparseError, wandaError, label)
        XCTAssertLessThan(sparseError, magnitudeError, label)
        // Half the weights go, and the removed ones are exactly zero.
        XCTAssertEqual(Double(sparse.mask.filter { $0 == 0 }.count) / Double(weight.count), 0.5, accuracy: 0.01)
        for (w, keep) in zip(sparse.weight, sparse.mask) where keep == 0 { XCTAssertEqual(w, 0) }
      }
    }
  }

  /// Every run of 4 consecutive inputs of every row keeps exactly 2 weights.
  func assertTwoOfFour(_ weight: Parameter, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    let mask = weight.mask!.scalars
    let values = weight.value.scalars
    let columns = weight.shape[1]
    var wrong = 0
    for r in 0..<weight.shape[0] {
      for start in stride(from: 0, to: columns, by: 4) {
        let range = (r * columns + start)..<(r * columns + start + 4)
        if mask[range].filter({ $0 == 1 }).count != 2 || values[range].filter({ $0 != 0 }).count != 2 { wrong += 1 }
      }
    }
    XCTAssertEqual(wrong, 0, "\(label): groups of 4 not holding exactly 2 nonzeros", file: file, line: line)
  }

  func testTwoOfFourMasksAreExactForEveryMethodAndSurviveTheFile() throws {
    let (model, data) = try bundledDigitsMLP()
    let dir = try temporaryDirectory(self)
    for method in ["magnitude", "wanda", "sparsegpt"] {
      let ctx = context(data)
      let pruned = try technique("prune", [("method", .string(method)), ("pattern", .string("2:4"))]).applied(
        to: model, context: ctx)
      for name in ["fc1", "fc2"] {
        let linear = try XCTUnwrap(layer(pruned, name) as? Linear)
        assertTwoOfFour(linear.weight, "\(method) \(name)")
      }
      let loaded = try deployedRoundTrip(pruned, to: dir.appendingPathComponent("\(method).safetensors"))
      assertClose(
        loaded.predict(data.test.inputs).scalars, pruned.predict(data.test.inputs).scalars, tolerance: 1e-4, method)
      XCTAssertEqual(
        Double(Evaluator.accuracy(of: pruned, on: data.test)), Double(Evaluator.accuracy(of: model, on: data.test)),
        accuracy: method == "magnitude" ? 0.3 : 0.1, method)
      if method != "magnitude" {
        XCTAssertNotNil(ctx.findings.metricsExtra["output_error_fc1"], method)
      }
    }
  }

  func testNOfMOtherThanTwoOfFour() throws {
    var g = SeededGenerator(seed: 6)
    let weight = Tensor<Float>(shape: [5, 24], scalars: g.floats(120, -1...1))
    let pattern = try XCTUnwrap(SparsityPattern("1:3"))
    let mask = pattern.mask(scores: weight.scalars.map { Double(abs($0)) }, rows: 5, columns: 24, sparsity: 0)
    for start in stride(from: 0, to: 120, by: 3) {
      let run = start..<(start + 3)
      XCTAssertEqual(mask[run].filter { $0 == 1 }.count, 1)
      // The kept one is the largest.
      let kept = run.first { mask[$0] == 1 }!
      XCTAssertEqual(abs(weight.scalars[kept]), run.map { abs(weight.scalars[$0]) }.max())
    }
    XCTAssertNil(SparsityPattern("4:2"))
    XCTAssertNil(SparsityPattern("2:"))
    XCTAssertEqual(SparsityPattern("2:4")?.impliedSparsity, 0.5)
  }

  func testSequentialPruningCalibratesOnThePrunedModel() throws {
    let (model, data) = try bundledDigitsMLP()
    let pruned = try technique("prune", [("method", .string("sparsegpt")), ("sparsity", .float(0.6))]).applied(
      to: model, context: context(data))
    XCTAssertEqual(MagnitudePruning.sparsity(of: (layer(pruned, "fc1") as! Linear).weight), 0.6, accuracy: 0.01)
    // fc2 was pruned for the inputs the pruned fc1 gives it (the first 128 training examples, in
    // batches of 32 as the calibration runs them), not for the float model's.
    let calibration = data.train.slice(0..<128)
    func hessian(_ source: Model) -> SymmetricMatrix {
      var s = LayerInputStatistics(columns: 64)
      for start in stride(from: 0, to: 128, by: 32) {
        s.add(layerInputs(source, "fc2", calibration.slice(start..<(start + 32))))
      }
      return s.hessian
    }
    let original = appliedWeight(model, "fc2")
    let result = (layer(pruned, "fc2") as! Linear).weight
    for (source, matches) in [(pruned, true), (model, false)] {
      let expected = try SparseGPT.prune(original, hessian: hessian(source), sparsity: 0.6, pattern: .unstructured)
      let difference = zip(expected.weight, result.value.scalars).map { abs($0 - $1) }.max()!
      XCTAssertEqual(difference < 1e-5, matches, "largest difference \(difference)")
      XCTAssertEqual(expected.mask == result.mask!.scalars, matches)
    }
  }

  func testSettingErrorsNameTheirKey() throws {
    func message(_ settings: [(String, ParameterValue)]) -> String {
      do {
        _ = try technique("prune", settings)
        return ""
      } catch { return "\(error)" }
    }
    XCTAssertTrue(message([("method", .string("obc"))]).contains("method: expected one of"))
    XCTAssertTrue(message([("pattern", .string("4:2"))]).contains("pattern: expected unstructured or N:M"))
    XCTAssertTrue(message([("pattern", .string("2:4")), ("sparsity", .float(0.7))]).contains("sparsity: pattern 2:4"))
    XCTAssertTrue(message([("method", .string("structured")), ("pattern", .string("2:4"))]).contains("pattern: "))
    XCTAssertTrue(message([("method", .string("wanda")), ("scope", .string("global"))]).contains("scope: "))
    XCTAssertTrue(message([("method", .string("wanda")), ("damp", .float(0.1))]).contains("damp: "))
    // 2:4 on a layer whose width is not a multiple of 4: a model with a 10-wide hidden layer.
    var g = SeededGenerator(seed: 1)
    let model = try Model(
      architecture: "mlp", inputShape: [1, 8, 8], classCount: 3,
      sequence: [
        ("flatten", Function(.flatten(startAxis: 1))), ("fc1", Linear(inputs: 64, outputs: 10, generator: &g)),
        ("relu", Function(.relu)), ("fc2", Linear(inputs: 10, outputs: 3, generator: &g)),
      ])
    let data = blobSplit()
    XCTAssertThrowsError(
      try technique("prune", [("method", .string("wanda")), ("pattern", .string("2:4"))]).applied(
        to: model, context: context(data))
    ) {
      XCTAssertTrue("\($0)".contains("pattern: 2:4 needs input widths that are multiples of 4; fc2 has 10"), "\($0)")
    }
    // Leaving fc2 out works.
    let pruned = try technique(
      "prune", [("method", .string("wanda")), ("pattern", .string("2:4")), ("layers", .list([.string("fc1")]))]
    ).applied(to: model, context: context(data))
    XCTAssertNil((layer(pruned, "fc2") as? Linear)?.weight.mask)
    XCTAssertNotNil((layer(pruned, "fc1") as? Linear)?.weight.mask)
  }
}
