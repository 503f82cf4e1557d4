import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// The one-shot settings written in a pipeline file, run by `PipelineRunner` on the bundled
/// digits MLP and digits set.
final class OneShotPipelineTests: XCTestCase {
  let text = """
    name: one-shot
    model: digits-mlp
    dataset: digits
    steps:
      - name: sparse
        technique: prune
        method: sparsegpt
        pattern: 2:4
        calibration_samples: 256
      - name: gptq
        technique: weight-only
        method: gptq
        bits: 4
        act_order: true
        damp: 0.01
        speed_check: false
    """

  let second = """
    name: one-shot-2
    steps:
      - name: wanda
        technique: prune
        method: wanda
        sparsity: {fc1: 0.5, last: 0.3}
      - name: awq
        technique: weight-only
        method: awq
        bits: {"*": 4, last: 8}
        clip: false
        speed_check: false
    """

  func run(_ text: String) throws -> [[String: Any]] {
    let spec = try PipelineSpec.parse(text, file: "one-shot.yaml")
    // Written back and read again, the file says the same.
    XCTAssertEqual(try PipelineSpec.parse(spec.yaml(), file: "again.yaml").steps, spec.steps)
    let (model, data) = try bundledDigitsMLP()
    let runner = try PipelineRunner(
      spec: spec, model: model, data: data, outputDirectory: try temporaryDirectory(self),
      loadModel: { _ in throw StepFailure("none") }, options: .init(latencySeconds: 0.001))
    let metrics = try runner.runAll()
    let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(metrics)) as! [[String: Any]]
    XCTAssertEqual(json.count, spec.steps.count + 1)
    return json
  }

  func testSparseGPTThenGPTQ() throws {
    let json = try run(text)
    let input = json[0]["accuracy"] as! Double
    for step in json.dropFirst() {
      let extra = try XCTUnwrap(step["extra"] as? [String: Any], "\(step["name"]!)")
      for layer in ["fc1", "fc2"] {
        let error = try XCTUnwrap(extra["output_error_\(layer)"] as? Double, "\(step["name"]!) \(layer)")
        XCTAssertTrue(error > 0 && error < 0.5, "\(step["name"]!) \(layer): \(error)")
      }
      XCTAssertGreaterThan(step["accuracy"] as! Double, input - 0.1, "\(step["name"]!)")
    }
    // 2:4 halves the nonzeros of both weights; GPTQ keeps them zero.
    let weights = 64 * 64 + 64 * 10
    let before = json[0]["nonzeros"] as! Int
    XCTAssertLessThanOrEqual(abs(json[1]["nonzeros"] as! Int - (before - weights / 2)), 8)
    XCTAssertLessThanOrEqual(json[2]["nonzeros"] as! Int, json[1]["nonzeros"] as! Int)
    XCTAssertLessThan(json[2]["sizeBytes"] as! Int, json[1]["sizeBytes"] as! Int)
  }

  func testWandaThenAWQ() throws {
    let json = try run(second)
    let wanda = try XCTUnwrap(json[1]["extra"] as? [String: Any])
    XCTAssertNotNil(wanda["output_error_fc1"] as? Double)
    XCTAssertNotNil(wanda["output_error_fc2"] as? Double)
    let awq = try XCTUnwrap(json[2]["extra"] as? [String: Any])
    for key in ["output_error_fc1", "output_error_fc2", "awq_alpha_fc1", "awq_alpha_fc2"] {
      XCTAssertNotNil(awq[key] as? Double, key)
    }
    XCTAssertGreaterThan(json[2]["accuracy"] as! Double, (json[0]["accuracy"] as! Double) - 0.1)
  }
}
