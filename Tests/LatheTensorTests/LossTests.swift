import Foundation
import LatheTensor
import XCTest

/// Cross-entropy, mean squared error and the distillation loss: values and gradients.
final class LossTests: XCTestCase {
  let logits = TestData.uniform([4, 5], seed: 1400, low: -2, high: 2)
  let labels = [3, 0, 4, 1]

  /// log softmax of one row in Double, by the definition.
  func logSoftmax(_ row: [Float], temperature: Double = 1) -> [Double] {
    let scaled = row.map { Double($0) / temperature }
    let total = scaled.map { Foundation.exp($0) }.reduce(0, +)
    return scaled.map { $0 - Foundation.log(total) }
  }

  func row(_ t: Tensor<Float>, _ i: Int) -> [Float] { (0..<t.shape[1]).map { t[i, $0] } }

  func testCrossEntropyIsMeanNegativeLogProbability() {
    let loss = Variable(logits).crossEntropy(labels: labels).value.scalar
    let expected = (0..<4).map { -logSoftmax(row(logits, $0))[labels[$0]] }.reduce(0, +) / 4
    XCTAssertEqual(Double(loss), expected, accuracy: 1e-5)
  }

  func testCrossEntropyWithLabelSmoothing() {
    let epsilon = 0.1
    let loss = Variable(logits).crossEntropy(labels: labels, labelSmoothing: Float(epsilon)).value.scalar
    var expected = 0.0
    for i in 0..<4 {
      let lp = logSoftmax(row(logits, i))
      for j in 0..<5 { expected -= ((j == labels[i] ? 1 - epsilon : 0) + epsilon / 5) * lp[j] }
    }
    XCTAssertEqual(Double(loss), expected / 4, accuracy: 1e-5)
  }

  func testCrossEntropyGradients() {
    checkGradients([logits]) { $0[0].crossEntropy(labels: self.labels) }
    checkGradients([logits]) { $0[0].crossEntropy(labels: self.labels, labelSmoothing: 0.1) }
  }

  func testMeanSquaredError() {
    let a = TestData.uniform([3, 4], seed: 1410)
    let b = TestData.uniform([3, 4], seed: 1411)
    let loss = Variable(a).meanSquaredError(Variable(b)).value.scalar
    let expected = zip(a.scalars, b.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / 12
    XCTAssertEqual(Double(loss), expected, accuracy: 1e-6)
    checkGradients([a, b]) { $0[0].meanSquaredError($0[1]) }
  }

  func testDistillationKL() {
    let teacher = TestData.uniform([4, 5], seed: 1420, low: -3, high: 3)
    for temperature: Float in [1, 4] {
      let loss = Variable(logits).distillationKL(teacherLogits: teacher, temperature: temperature).value.scalar
      var expected = 0.0
      for i in 0..<4 {
        let q = logSoftmax(row(logits, i), temperature: Double(temperature))
        let p = logSoftmax(row(teacher, i), temperature: Double(temperature))
        for j in 0..<5 { expected += Foundation.exp(p[j]) * (p[j] - q[j]) }
      }
      expected *= Double(temperature * temperature) / 4
      XCTAssertEqual(Double(loss), expected, accuracy: 1e-5, "T = \(temperature)")
      checkGradients([logits]) { $0[0].distillationKL(teacherLogits: teacher, temperature: temperature) }
    }
    // The loss vanishes when student and teacher agree.
    XCTAssertEqual(
      Variable(teacher).distillationKL(teacherLogits: teacher, temperature: 4).value.scalar, 0, accuracy: 1e-5)
  }
}
