import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for the ops LatheONNX adds, so imported models train.
final class GradientTests: XCTestCase {
  /// Compares the analytic gradient of sum(f(x) * w) with central differences.
  func check(_ shape: [Int], file: StaticString = #filePath, line: UInt = #line, _ f: (Variable) -> Variable) {
    var g = SeededGenerator(seed: 3)
    let x0 = Tensor<Float>.uniform(shape, low: -1.5, high: 1.5, generator: &g)
    let probe = GradientRecording.disabled { f(Variable(x0)).value }
    let w = Tensor<Float>.uniform(probe.shape, low: -1, high: 1, generator: &g)
    let x = Variable(x0, requiresGrad: true)
    (f(x) * Variable(w)).sum().backpropagate()
    let analytic = x.grad!.scalars
    let epsilon: Float = 1e-2
    for i in 0..<x0.count {
      var plus = x0.scalars
      var minus = x0.scalars
      plus[i] += epsilon
      minus[i] -= epsilon
      let fp = GradientRecording.disabled { (f(Variable(Tensor(shape: shape, scalars: plus))).value * w).sum() }
      let fm = GradientRecording.disabled { (f(Variable(Tensor(shape: shape, scalars: minus))).value * w).sum() }
      XCTAssertEqual(analytic[i], (fp - fm) / (2 * epsilon), accuracy: 2e-2, "element \(i)", file: file, line: line)
    }
  }

  func op(_ kind: ONNXOp.Kind) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      return ONNXOp(kind).forward([x], context: &context)
    }
  }

  func testMovementOps() {
    check([2, 3, 4], op(.slice(starts: [3, 0], ends: [-100, 3], axes: [2, 1], steps: [-2, 2])))
    check([2, 3, 4], op(.gather(axis: 1, indices: [2, 0, 2], indicesShape: [3])))
    check([2, 3], op(.pad(pads: [1, 0, 0, 2], mode: "reflect", value: 0)))
    check([2, 3], op(.pad(pads: [1, 4, 2, 1], mode: "wrap", value: 0)))
    check([1, 3], op(.expand(shape: [2, 3])))
    check([2, 3, 4], op(.transpose(permutation: [2, 0, 1])))
  }

  func testElementwiseOps() {
    check([3, 4], op(.elu(alpha: 0.7)))
    check([3, 4], op(.selu(alpha: 1.67, gamma: 1.05)))
    check([3, 4], op(.softplus))
    check([3, 4], op(.softsign))
    check([3, 4], op(.softmax(axis: 0, coerced: false)))
    check([2, 3, 2], op(.logSoftmax(axis: 1, coerced: true)))
    check([1, 5, 2, 2], op(.lrn(size: 3, alpha: 0.1, beta: 0.75, bias: 1)))
    check([2, 3], op(.reduceMean(axes: [1], keepDims: false)))
  }

  func testMatMulAndConvTranspose() {
    var g = SeededGenerator(seed: 5)
    let b = Variable(.uniform([2, 4, 3], low: -1, high: 1, generator: &g))
    check([2, 2, 4]) { ONNXOp.matmul($0, b) }
    let layer = ONNXConvTranspose(
      weight: Parameter(.uniform([2, 1, 3, 3], low: -1, high: 1, generator: &g)), bias: nil, stride: [2, 2],
      padding: [1, 0, 1, 1], dilation: [1, 1], outputPadding: [1, 0], groups: 1)
    check([1, 2, 3, 3]) { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context)
    }
  }

  func run(_ layer: Layer) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context)
    }
  }

  /// The N-d windows: 3-D convolution and pooling through gathered patches, transposed
  /// convolution over one and three axes, and training-mode batch normalisation.
  func testWindowOps() {
    var g = SeededGenerator(seed: 9)
    let window = WindowND(kernel: [2, 2, 2], stride: [1, 2, 1], pads: [1, 0, 0, 0, 1, 1], dilation: [1, 1, 2])
    let conv = ONNXConv(
      weight: Parameter(.uniform([4, 1, 2, 2, 2], low: -1, high: 1, generator: &g)),
      bias: Parameter(.uniform([4], low: -1, high: 1, generator: &g)), window: window, groups: 2)
    check([1, 2, 3, 3, 4], run(conv))
    check([1, 2, 3, 3, 4], run(ONNXPool(.max, window: window)))
    var ceiling = window
    ceiling.ceilMode = true
    check([1, 2, 3, 3, 4], run(ONNXPool(.average, window: ceiling, countIncludePad: true)))
    let transposed1 = ONNXConvTranspose(
      weight: Parameter(.uniform([2, 2, 3], low: -1, high: 1, generator: &g)), bias: nil, stride: [2], padding: [1, 0],
      dilation: [1], outputPadding: [1], groups: 1)
    check([1, 2, 4], run(transposed1))
    let transposed3 = ONNXConvTranspose(
      weight: Parameter(.uniform([2, 1, 2, 1, 2], low: -1, high: 1, generator: &g)), bias: nil, stride: [2, 1, 1],
      padding: [0, 0, 1, 1, 0, 0], dilation: [1, 1, 2], outputPadding: [1, 0, 0], groups: 2)
    check([1, 2, 2, 2, 3], run(transposed3))
    let norm = ONNXBatchNormTraining(
      .normalized, scale: Tensor(shape: [2], scalars: [1, 2]), bias: Tensor(shape: [2], scalars: [0, 1]),
      mean: .zeros([2]), variance: Tensor(repeating: 1, shape: [2]), epsilon: 1e-3, momentum: 0.9)
    check([3, 2, 2], run(norm))
  }
}
