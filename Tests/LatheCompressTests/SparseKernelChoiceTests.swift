import CKernels
import Dispatch
import Foundation
import LatheTensor
import LatheTestSupport
import XCTest

@testable import LatheCompress

/// Sparse layers time their kernels once per shape: layers of one shape and their copies run
/// the same kernels.
final class SparseKernelChoiceTests: XCTestCase {
  /// A [rows, cols] layer with exactly `nonzeros` nonzero weights, placed by `seed`.
  func layer(rows: Int, cols: Int, nonzeros: Int, seed: UInt64) -> SparseLinear {
    var g = SeededGenerator(seed: seed)
    var w = [Float](repeating: 0, count: rows * cols)
    for p in (0..<(rows * cols)).shuffled(using: &g).prefix(nonzeros) { w[p] = g.nextNormal() }
    return SparseLinear(
      weights: EncodedWeights(Tensor(shape: [rows, cols], scalars: w), codebook: nil, encoding: .csr),
      bias: Parameter(Tensor(shape: [rows], scalars: g.floats(rows, -1...1)), isTrainable: false))
  }

  /// A shape no other test builds, so that the process-wide count starts where this test says.
  func testLayersOfOneShapeAreTimedOnceAndCopiesKeepTheirKernels() throws {
    let choices = SparseKernelChoices.shared
    let before = choices.timings
    let first = layer(rows: 29, cols: 61, nonzeros: 530, seed: 1)
    XCTAssertEqual(choices.timings, before + 1, "a new shape is timed")
    let second = layer(rows: 29, cols: 61, nonzeros: 530, seed: 2)
    XCTAssertEqual(choices.timings, before + 1, "the same shape with other weights is not timed again")
    XCTAssertEqual(second.kernels, first.kernels)
    XCTAssertEqual(second.kernelName, first.kernelName)

    let copy = try XCTUnwrap(first.copy() as? SparseLinear)
    XCTAssertEqual(choices.timings, before + 1, "a copy times nothing")
    XCTAssertEqual(copy.kernels, first.kernels)
    XCTAssertEqual(copy.kernelName, first.kernelName)
    XCTAssertFalse(copy.bias === first.bias, "a copy has its own bias")
    XCTAssertEqual(copy.bias?.value.scalars, first.bias?.value.scalars)
    // The copy computes what the original does.
    var g = SeededGenerator(seed: 3)
    for batch in [1, 70] {
      let x = Tensor<Float>.normal([batch, 61], generator: &g)
      var context = ForwardContext.inference
      XCTAssertEqual(
        copy.forward([Variable(x)], context: &context).value.scalars,
        first.forward([Variable(x)], context: &context).value.scalars, "batch \(batch)")
    }

    _ = layer(rows: 29, cols: 61, nonzeros: 300, seed: 4)
    XCTAssertEqual(choices.timings, before + 2, "another density is another shape")
    _ = layer(rows: 29, cols: 61, nonzeros: 1500, seed: 5)
    XCTAssertEqual(choices.timings, before + 2, "dense enough layers run dense without timing")
  }

  /// The choice is timed on the kernel path that will run it: a shape already timed on one path
  /// is timed again on each other path (AVX2's sparse kernels gain less than AVX-512's), and
  /// the layer built there computes W·x + b on that path, whichever product won.
  func testEachKernelPathTimesItsOwnChoice() {
    let choices = SparseKernelChoices.shared
    var g = SeededGenerator(seed: 6)
    let x = Tensor<Float>.normal([1, 67], generator: &g)
    var paths = 0
    let before = choices.timings
    forEachKernelPath { _, path in
      paths += 1
      let sparse = layer(rows: 31, cols: 67, nonzeros: 200, seed: 7)
      XCTAssertEqual(choices.timings, before + paths, "\(path): the shape is timed on this path")
      _ = layer(rows: 31, cols: 67, nonzeros: 200, seed: 8)
      XCTAssertEqual(choices.timings, before + paths, "\(path): and only once")
      var context = ForwardContext.inference
      let y = sparse.forward([Variable(x)], context: &context).value
      let want = x.linearForward(weight: sparse.weights.dense(), bias: sparse.bias?.value)
      for (a, b) in zip(y.scalars, want.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(path)") }
    }
  }

  /// Threads asking for one shape at once: it is measured once and all get that answer.
  func testConcurrentRequestsForOneShapeMeasureItOnce() {
    let choices = SparseKernelChoices()
    final class Calls: @unchecked Sendable {
      let lock = NSLock()
      var count = 0
      var answers: [SparseKernelChoice] = []
    }
    let calls = Calls()
    let shape = SparseLayerShape(rows: 300, cols: 784, nonzeros: 23520, isa: 0)
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      let answer = choices.choice(for: shape) {
        calls.lock.withLock { calls.count += 1 }
        return SparseKernelChoice(singleExample: i % 2 == 0 ? .csr : .sliced, sparseForBatches: i % 2 == 0)
      }
      calls.lock.withLock { calls.answers.append(answer) }
    }
    XCTAssertEqual(calls.count, 1)
    XCTAssertEqual(choices.timings, 1)
    XCTAssertEqual(calls.answers.count, 8)
    XCTAssertTrue(calls.answers.allSatisfy { $0 == calls.answers[0] }, "every thread got the one answer")
    let other = choices.choice(for: SparseLayerShape(rows: 300, cols: 784, nonzeros: 100, isa: 0)) {
      SparseKernelChoice(singleExample: .csr, sparseForBatches: true)
    }
    XCTAssertEqual(other, SparseKernelChoice(singleExample: .csr, sparseForBatches: true))
    XCTAssertEqual(choices.timings, 2)
  }
}
