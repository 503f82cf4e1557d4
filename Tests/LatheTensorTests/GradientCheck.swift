import LatheTensor
import XCTest

/// Random test tensors, seeded so every run sees the same numbers.
enum TestData {
  /// Uniform in [low, high).
  static func uniform(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor<Float> {
    var generator = SeededGenerator(seed: seed)
    return .uniform(shape, low: low, high: high, generator: &generator)
  }

  /// Uniform magnitudes in [margin, margin + 1) with random signs: no element near zero,
  /// so kinks at zero (relu, leaky relu) stay out of the finite-difference step.
  static func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) -> Tensor<Float> {
    uniform(shape, seed: seed).mapFloat { $0 < 0 ? $0 - margin : $0 + margin }
  }

  /// Distinct values spaced `spacing` apart in a shuffled order: no two elements tie, so the
  /// winner of a max stays the same under a perturbation smaller than half the spacing.
  static func distinct(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor<Float> {
    var generator = SeededGenerator(seed: seed)
    var values = (0..<shape.reduce(1, *)).map { Float($0) * spacing }
    generator.shuffle(&values)
    let offset = Float(values.count) * spacing / 2
    return Tensor(shape: shape, scalars: values.map { $0 - offset })
  }
}

/// Compares every analytical gradient with a central finite difference.
///
/// The output y of `build` is reduced to the scalar L = Σ y·R with a fixed random R (so every
/// output element gets a different weight), L is back-propagated, and each input element's
/// gradient is compared with (L(x + h) − L(x − h)) / 2h, accepting |a − n| ≤ tolerance·max(1, |n|).
/// `build` is called again for every perturbed evaluation, so anything random inside it must
/// start from a fresh seeded generator each time.
///
/// Step 1e-2 keeps float32 rounding in L (about 1e-7·|L| / h) far below the tolerance; the
/// truncation error of the central difference (h²·f‴/6) stays under 4e-4 relative for these
/// inputs. A tolerance of 1e-3 then catches a gradient off by a few percent, such as a missing
/// ε/K term in label smoothing or a 1/(N−1) for a 1/N (checked by mutating the ops).
/// Losses are scalars whose gradients are small (about 1/N), which is why the tolerance is
/// tight in absolute terms too.
func checkGradients(
  _ inputs: [Tensor<Float>], step: Float = 1e-2, tolerance: Float = 1e-3, seed: UInt64 = 99,
  file: StaticString = #filePath, line: UInt = #line, _ build: ([Variable]) -> Variable
) {
  let leaves = inputs.map { Variable($0, requiresGrad: true) }
  let output = build(leaves)
  let weights = TestData.uniform(output.shape, seed: seed)
  (output * Variable(weights)).sum().backpropagate()
  let weightValues = weights.scalars.map(Double.init)

  func loss(_ values: [Tensor<Float>]) -> Double {
    let y = GradientRecording.disabled { build(values.map { Variable($0) }) }.value
    XCTAssertEqual(y.shape, output.shape, "output shape changed under perturbation", file: file, line: line)
    return zip(y.scalars, weightValues).reduce(0) { $0 + Double($1.0) * $1.1 }
  }

  for (i, input) in inputs.enumerated() {
    let analytical = leaves[i].grad ?? .zeros(input.shape)
    XCTAssertEqual(analytical.shape, input.shape, "input \(i): gradient shape", file: file, line: line)
    let analyticalValues = analytical.scalars
    let base = input.scalars
    var failures = 0
    for j in 0..<base.count {
      var values = inputs
      var perturbed = base
      perturbed[j] = base[j] + step
      values[i] = Tensor(shape: input.shape, scalars: perturbed)
      let plus = loss(values)
      perturbed[j] = base[j] - step
      values[i] = Tensor(shape: input.shape, scalars: perturbed)
      let minus = loss(values)
      // The step actually taken, after rounding x ± h to float32.
      let width = Double(base[j] + step) - Double(base[j] - step)
      let numerical = Float((plus - minus) / width)
      let difference = abs(analyticalValues[j] - numerical)
      if difference > tolerance * max(1, abs(numerical)) {
        failures += 1
        if failures <= 3 {
          XCTFail(
            "input \(i) \(input.shape) element \(j): analytical \(analyticalValues[j]), numerical \(numerical)",
            file: file, line: line)
        }
      }
    }
    if failures > 3 { XCTFail("input \(i): \(failures) elements wrong in all", file: file, line: line) }
  }
}

/// Asserts two tensors have the same shape and elements within `accuracy`.
func assertClose(
  _ actual: Tensor<Float>, _ expected: Tensor<Float>, accuracy: Float = 1e-5, _ message: String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
  guard actual.shape == expected.shape else { return }
  let difference = actual.maxAbsDifference(expected)
  XCTAssertLessThanOrEqual(difference, accuracy, "max difference \(message)", file: file, line: line)
}
