import Foundation
import XCTest

@testable import LatheTensor

/// Latency is timed on the data's own examples, at a batch whose pass fits the time budget.
final class LatencyPlanTests: XCTestCase {
  /// A model whose only layer records the input shapes it runs on and sleeps
  /// `microsecondsPerExample` per example, so a pass costs what the test says.
  private func model(microsecondsPerExample: UInt32, recorder: ShapeRecorder) throws -> Model {
    recorder.microsecondsPerExample = microsecondsPerExample
    // An OCR-line-like model: 3 channels, height and width open; the file's example size is a
    // made-up 3x320x320 probe.
    let m = try Model(
      architecture: "open", inputShape: [3, 320, 320], classCount: 2,
      nodes: [Node("record", recorder, inputs: ["input"])])
    m.symbolicAxes = [1, 2]
    return m
  }

  private func lines(_ count: Int) -> Dataset {
    var generator = SeededGenerator(seed: 3)
    return Dataset(
      name: "lines", inputs: .uniform([count, 3, 8, 24], low: 0, high: 1, generator: &generator),
      labels: Array(repeating: 0, count: count), classCount: 2)
  }

  func testAModelWithOpenSizesIsTimedAtTheDatasetsShapeNotTheProbes() throws {
    let recorder = ShapeRecorder()
    let m = try model(microsecondsPerExample: 0, recorder: recorder)
    let data = lines(3)
    let plan = LatencyPlan(seconds: 0, largestBatch: 4, passBudgetSeconds: 10)
    let (one, large) = plan.measure(m, on: data)
    XCTAssertEqual(one.batchSize, 1)
    XCTAssertEqual(large.batchSize, 4, "a cheap pass: the largest batch")
    // 4 examples from 3: the data's examples, repeated.
    XCTAssertEqual(Set(recorder.shapes), [[1, 3, 8, 24], [4, 3, 8, 24]])
    let feeds = m.timingFeeds(batchSize: 4, from: data)
    XCTAssertEqual(
      feeds[0].sliced(axis: 0, 3..<4).scalars, data.inputs.sliced(axis: 0, 0..<1).scalars,
      "example 4 is example 1 again")
    // Without data (or data that cannot feed it) the model's own example size is all there is.
    recorder.shapes = []
    _ = plan.measure(m, on: nil, batch: 2)
    XCTAssertEqual(Set(recorder.shapes), [[1, 3, 320, 320], [2, 3, 320, 320]])
  }

  func testTheLargerBatchKeepsOnePassWithinTheBudget() throws {
    let recorder = ShapeRecorder()
    let m = try model(microsecondsPerExample: 2000, recorder: recorder)
    let plan = LatencyPlan(seconds: 0, largestBatch: 256, passBudgetSeconds: 0.02, figureBudgetSeconds: 0.05)
    let (one, large) = plan.measure(m, on: lines(2))
    XCTAssertGreaterThanOrEqual(one.p50Microseconds, 2000)
    // Worked out here: the largest power of two b with b × (batch-1 time) within 20 ms.
    var expected = 1
    while expected * 2 <= 256 && Double(expected * 2) * one.p50Microseconds <= 20_000 { expected *= 2 }
    XCTAssert((2..<256).contains(expected), "2 ms a pass at batch 1: 8 fits 20 ms, 256 does not (got \(expected))")
    XCTAssertEqual(large.batchSize, expected)
    XCTAssertFalse(recorder.shapes.contains { $0[0] > expected }, "no pass above the chosen batch")
    // Slow passes stop at the figure budget, not at 30 runs.
    XCTAssertLessThan(one.runs, 30)
    XCTAssertGreaterThanOrEqual(one.runs, 1)
  }

  func testNoBatchFitsTheBudget() throws {
    let recorder = ShapeRecorder()
    let m = try model(microsecondsPerExample: 5000, recorder: recorder)
    let plan = LatencyPlan(seconds: 0, passBudgetSeconds: 0.004, figureBudgetSeconds: 0.02)
    XCTAssertEqual(plan.largeBatch(afterBatch1: 5000), 1)
    XCTAssertEqual(plan.largeBatch(afterBatch1: 1000), 4)
    let (one, large) = plan.measure(m, on: lines(2))
    XCTAssertEqual(large, one, "batch 1 only: the larger figure is batch 1's")
    XCTAssertEqual(Set(recorder.shapes.map { $0[0] }), [1])
  }
}

/// Records each input shape it sees and sleeps per example.
private final class ShapeRecorder: Layer {
  var shapes: [[Int]] = []
  var microsecondsPerExample: UInt32 = 0
  var spec: LayerSpec { LayerSpec(op: "test.record") }
  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    shapes.append(inputs[0].value.shape)
    if microsecondsPerExample > 0 { usleep(microsecondsPerExample * UInt32(inputs[0].value.shape[0])) }
    return inputs[0]
  }
  func copy() -> Layer { self }
}
