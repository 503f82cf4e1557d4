import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

final class WeightSharingTests: XCTestCase {
  func distinctNonzeros(_ p: Parameter) -> Set<Float> { Set(p.value.scalars.filter { $0 != 0 }) }

  func prunedAndShared(bits: Int, epochs: Int, data: DatasetSplit) throws -> (Model, Model) {
    let model = trainedDigitsMLP(data)
    let pruned = try technique("prune", [("sparsity", .float(0.6))]).applied(to: model, context: context(data))
    let shared = try technique("weight-sharing", [("bits", .int(bits)), ("epochs", .int(epochs))])
      .applied(to: pruned, context: context(data))
    return (pruned, shared)
  }

  func testAtMostTwoToTheBitsValuesAndPrunedZerosStay() throws {
    let data = blobSplit()
    let (pruned, shared) = try prunedAndShared(bits: 3, epochs: 0, data: data)
    for name in ["fc1.weight", "fc2.weight"] {
      let p = shared.parameter(named: name)!
      XCTAssertLessThanOrEqual(distinctNonzeros(p).count, 8, name)
      XCTAssertGreaterThanOrEqual(distinctNonzeros(p).count, 4, name)
      let before = pruned.parameter(named: name)!.value.scalars
      let after = p.value.scalars
      for i in before.indices where before[i] == 0 { XCTAssertEqual(after[i], 0) }
      XCTAssertEqual(after.filter { $0 == 0 }.count, before.filter { $0 == 0 }.count, name)
    }
    // The shared model still classifies the blobs.
    XCTAssertGreaterThan(Evaluator.accuracy(of: shared, on: data.test), 0.9)
  }

  func testEveryWeightSitsAtItsNearestCentroid() {
    var g = SeededGenerator(seed: 3)
    let original = Tensor<Float>.normal([40, 30], generator: &g)
    let parameter = Parameter(original)
    parameter.mask = Tensor(shape: [40, 30], scalars: (0..<1200).map { $0 % 4 == 0 ? 0 : 1 })
    parameter.applyMask()
    WeightSharing.share(parameter, count: 16, initialization: .linear)
    let codebook = parameter.codebook!
    let values = parameter.value.scalars
    let o = original.scalars
    for i in 0..<1200 {
      if i % 4 == 0 {
        XCTAssertEqual(values[i], 0)
        XCTAssertEqual(codebook.assignments[i], WeightCodebook.pruned)
        continue
      }
      XCTAssertEqual(values[i], codebook.centroids[Int(codebook.assignments[i])])
      let nearest = codebook.centroids.map { abs($0 - o[i]) }.min()!
      XCTAssertLessThanOrEqual(abs(values[i] - o[i]), nearest + 1e-6, "element \(i)")
    }
    // k-means: each centroid is the mean of the weights assigned to it.
    for (k, c) in codebook.centroids.enumerated() {
      let members = (0..<1200).filter { codebook.assignments[$0] == UInt16(k) }.map { Double(o[$0]) }
      guard !members.isEmpty else { continue }
      XCTAssertEqual(Double(c), members.reduce(0, +) / Double(members.count), accuracy: 1e-5)
    }
  }

  func testReprojectKeepsWeightsOnCentroidsThroughFineTuning() throws {
    let data = blobSplit()
    let (_, shared) = try prunedAndShared(bits: 3, epochs: 2, data: data)
    for name in ["fc1.weight", "fc2.weight"] {
      let p = shared.parameter(named: name)!
      let codebook = p.codebook!
      XCTAssertEqual(p.value, codebook.weights(shape: p.shape), name)
      XCTAssertLessThanOrEqual(distinctNonzeros(p).count, 8)
    }
  }

  func testReprojectMovesCentroidsToTheMeanOfTheirWeights() {
    let parameter = Parameter(Tensor(shape: [6], scalars: [1, 1, 5, 5, 0, 5]))
    parameter.codebook = WeightCodebook(centroids: [1, 5], assignments: [0, 0, 1, 1, WeightCodebook.pruned, 1])
    parameter.value = Tensor(shape: [6], scalars: [1.2, 1.0, 4.4, 5.0, 0, 5.3])  // an optimizer step's doing
    WeightSharing.reproject(parameter)
    XCTAssertEqual(parameter.codebook!.centroids[0], 1.1, accuracy: 1e-6)
    XCTAssertEqual(parameter.codebook!.centroids[1], 4.9, accuracy: 1e-6)
    let v = parameter.value.scalars
    XCTAssertEqual(v[0], v[1])
    XCTAssertEqual(v[2], v[5])
    XCTAssertEqual(v[4], 0)
  }

  func testSharedWeightsStaySharedThroughALaterFineTuneStep() throws {
    let data = blobSplit()
    let (_, shared) = try prunedAndShared(bits: 3, epochs: 0, data: data)
    let tuned = try technique("fine-tune", [("epochs", .int(1)), ("lr", .float(0.05))])
      .applied(to: shared, context: context(data))
    for name in ["fc1.weight", "fc2.weight"] {
      let p = tuned.parameter(named: name)!
      XCTAssertEqual(p.value, p.codebook!.weights(shape: p.shape), "\(name) left its codebook")
    }
    // So the saved (codebook-encoded) model computes what the in-memory one does.
    let loaded = try deployedRoundTrip(tuned, to: try temporaryDirectory(self).appendingPathComponent("m.safetensors"))
    assertClose(logits(loaded, data.test.inputs), logits(tuned, data.test.inputs), tolerance: 1e-5)
  }

  func testPruningAfterSharingKeepsItsZerosWhileTraining() throws {
    let data = blobSplit()
    let (_, shared) = try prunedAndShared(bits: 3, epochs: 0, data: data)
    let pruned = try technique("prune", [("sparsity", .float(0.8)), ("epochs", .int(1))])
      .applied(to: shared, context: context(data))
    let p = pruned.parameter(named: "fc1.weight")!
    XCTAssertEqual(p.zeroCount, Int((0.8 * 4096).rounded()))
    let onCodebook = p.codebook!.weights(shape: p.shape).scalars
    XCTAssertTrue(zip(p.value.scalars, onCodebook).allSatisfy { $0 == 0 || $0 == $1 })
    XCTAssertLessThanOrEqual(distinctNonzeros(p).count, 8)
  }

  func testInitialisationMethodsDiffer() {
    // Skewed weights: many small, a few large.
    let values: [Float] = (0..<200).map { Float($0) / 200 } + [5, 8, 10]
    let linear = WeightSharing.initialCentroids(values, count: 4, initialization: .linear, seed: 0)
    let density = WeightSharing.initialCentroids(values, count: 4, initialization: .density, seed: 0)
    let random = WeightSharing.initialCentroids(values, count: 4, initialization: .random, seed: 0)
    XCTAssertEqual(linear, [0, 10.0 / 3, 20.0 / 3, 10])
    XCTAssertEqual(density.first, 0)
    XCTAssertEqual(density.last, 10)
    XCTAssertLessThan(density[1], 1)  // a quantile, inside the dense region
    XCTAssertLessThan(density[2], 1)
    XCTAssertEqual(random.count, 4)
    XCTAssertTrue(random.allSatisfy { values.contains($0) })
    XCTAssertEqual(random, random.sorted())
    XCTAssertNotEqual(linear, density)
    XCTAssertNotEqual(random, linear)
  }
}
