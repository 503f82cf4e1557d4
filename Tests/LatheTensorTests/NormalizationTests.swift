import LatheTensor
import XCTest

/// Batch norm (training and inference) and dropout.
final class NormalizationTests: XCTestCase {
  func testBatchNormTrainingGradients() {
    for shape in [[5, 3], [2, 3, 3, 2]] {
      let c = shape[1]
      let x = TestData.uniform(shape, seed: 1300, low: -2, high: 2)
      let gamma = TestData.uniform([c], seed: 1301, low: 0.5, high: 1.5)
      let beta = TestData.uniform([c], seed: 1302)
      checkGradients([x, gamma, beta]) { v in
        v[0].batchNormTraining(gamma: v[1], beta: v[2], epsilon: 1e-5).0
      }
    }
  }

  func testBatchNormTrainingNormalizesEachChannel() {
    let x = TestData.uniform([4, 3, 2, 5], seed: 1310, low: -3, high: 5)
    let ones = Variable(Tensor(repeating: 1, shape: [3]))
    let zeros = Variable(Tensor.zeros([3]))
    let (y, statistics) = Variable(x).batchNormTraining(gamma: ones, beta: zeros, epsilon: 1e-5)
    let m = 4 * 2 * 5
    for c in 0..<3 {
      var xs: [Double] = []
      var ys: [Double] = []
      for b in 0..<4 {
        for i in 0..<2 {
          for j in 0..<5 {
            xs.append(Double(x[b, c, i, j]))
            ys.append(Double(y.value[b, c, i, j]))
          }
        }
      }
      let mean = ys.reduce(0, +) / Double(m)
      let variance = ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m)
      XCTAssertEqual(mean, 0, accuracy: 1e-5, "channel \(c)")
      XCTAssertEqual(variance, 1, accuracy: 1e-3, "channel \(c)")
      // Running statistics: the batch mean and the unbiased variance.
      let xMean = xs.reduce(0, +) / Double(m)
      let xVariance = xs.map { ($0 - xMean) * ($0 - xMean) }.reduce(0, +) / Double(m - 1)
      XCTAssertEqual(Double(statistics.mean[c]), xMean, accuracy: 1e-5)
      XCTAssertEqual(Double(statistics.variance[c]), xVariance, accuracy: 1e-4)
    }
  }

  func testBatchNormTrainingAppliesGammaAndBeta() {
    let x = TestData.uniform([6, 2], seed: 1320)
    let gamma = Tensor<Float>(shape: [2], scalars: [2, -0.5])
    let beta = Tensor<Float>(shape: [2], scalars: [1, 3])
    let y = Variable(x).batchNormTraining(gamma: Variable(gamma), beta: Variable(beta), epsilon: 0).0.value
    for c in 0..<2 {
      let column = (0..<6).map { Double(y[$0, c]) }
      let mean = column.reduce(0, +) / 6
      let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
      XCTAssertEqual(mean, Double(beta[c]), accuracy: 1e-5)
      XCTAssertEqual(variance.squareRoot(), Double(abs(gamma[c])), accuracy: 1e-4)
    }
  }

  func testBatchNormInference() {
    for shape in [[4, 3], [2, 3, 2, 2]] {
      let x = TestData.uniform(shape, seed: 1330)
      let gamma = TestData.uniform([3], seed: 1331, low: 0.5, high: 1.5)
      let beta = TestData.uniform([3], seed: 1332)
      let mean = TestData.uniform([3], seed: 1333)
      let variance = TestData.uniform([3], seed: 1334, low: 0.5, high: 2)
      checkGradients([x, gamma, beta]) { v in
        v[0].batchNormInference(
          gamma: v[1], beta: v[2], runningMean: mean, runningVariance: variance, epsilon: 1e-3)
      }
      let y = Variable(x).batchNormInference(
        gamma: Variable(gamma), beta: Variable(beta), runningMean: mean, runningVariance: variance, epsilon: 1e-3
      ).value
      let flat = x.scalars
      let spatial = x.count / (shape[0] * 3)
      let expected = (0..<x.count).map { i -> Float in
        let c = (i / spatial) % 3
        return (flat[i] - mean[c]) / (variance[c] + 1e-3).squareRoot() * gamma[c] + beta[c]
      }
      assertClose(y, Tensor(shape: shape, scalars: expected))
    }
  }

  func testDropoutGradientUsesTheSameMask() {
    let x = TestData.uniform([4, 5], seed: 1340)
    checkGradients([x]) { v in
      var generator = SeededGenerator(seed: 77)
      return v[0].dropout(rate: 0.3, generator: &generator)
    }
  }

  func testDropoutScalesKeptElements() {
    let x = Tensor<Float>(repeating: 2, shape: [1000])
    var generator = SeededGenerator(seed: 78)
    let y = Variable(x).dropout(rate: 0.25, generator: &generator).value.scalars
    XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
    let dropped = y.filter { $0 == 0 }.count
    XCTAssertEqual(Double(dropped) / 1000, 0.25, accuracy: 0.05)
    var unused = SeededGenerator(seed: 79)
    XCTAssertEqual(Variable(x).dropout(rate: 0, generator: &unused).value, x)
  }
}
