import LatheTensor
import XCTest

@testable import LatheCompress

/// Mixed precision to a bits-per-weight budget: the greedy allocation and the weight-only step
/// that uses it.
final class BitAllocationTests: XCTestCase {
  // Stored bits with group 32: int4 is 5, int8 is 9, fp32 32.
  let layers = [
    BitAllocation.Layer(name: "big", parameters: 1000, cost: [4: 0.10, 8: 0.01, 32: 0]),
    BitAllocation.Layer(name: "small", parameters: 100, cost: [4: 0.50, 8: 0.02, 32: 0]),
    BitAllocation.Layer(name: "head", parameters: 10, cost: [4: 0.30, 8: 0.25, 32: 0]),
  ]

  func meanBits(_ widths: [String: Int]) -> Double {
    let bits = layers.reduce(0.0) {
      $0 + Double($1.parameters) * BitAllocation.storedBits(widths[$1.name]!, groupSize: 32)
    }
    return bits / 1110
  }

  func testTheBudgetGoesWhereItBuysTheMostPerBit() {
    // The smallest budget: everything at 4 bits.
    XCTAssertEqual(BitAllocation.allocate(layers, budget: 5, groupSize: 32), ["big": 4, "small": 4, "head": 4])
    // 400 extra bits: "small" to 8 bits (0.48 KL for 400 bits) beats everything else per bit.
    let some = BitAllocation.allocate(layers, budget: 5.4, groupSize: 32)
    XCTAssertEqual(some["small"], 8)
    XCTAssertEqual(some["big"], 4, "the big layer's upgrade does not fit")
    XCTAssertLessThanOrEqual(meanBits(some), 5.4)
    // Enough for all at 32 bits: nothing is left at a cost.
    XCTAssertEqual(BitAllocation.allocate(layers, budget: 32, groupSize: 32), ["big": 32, "small": 32, "head": 32])
    // Every allocation stays within its budget.
    for budget in stride(from: 5.0, through: 32, by: 0.7) {
      XCTAssertLessThanOrEqual(meanBits(BitAllocation.allocate(layers, budget: budget, groupSize: 32)), budget + 1e-9)
    }
  }

  /// A digits MLP whose hidden unit 0 is dead (zero weights, bias -1: ReLU gives 0 on every
  /// input) and whose output layer reads it with weight 1000: the fp32 model is unaffected, but
  /// that layer's group scale is then so coarse at 4 or 8 bits that its live weights round to
  /// zero. Only fp32 saves it, and it is the small layer (192 weights of 4288).
  func fragileHead(_ data: DatasetSplit) -> Model {
    let model = trainedDigitsMLP(data)
    let fc1 = model.nodes.first { $0.name == "fc1" }!.layer as! Linear
    let fc2 = model.nodes.first { $0.name == "fc2" }!.layer as! Linear
    var w1 = fc1.weight.value.scalars
    for column in 0..<64 { w1[column] = 0 }
    fc1.weight.value = Tensor(shape: fc1.weight.value.shape, scalars: w1)
    var b1 = fc1.bias!.value.scalars
    b1[0] = -1
    fc1.bias!.value = Tensor(shape: fc1.bias!.value.shape, scalars: b1)
    var w2 = fc2.weight.value.scalars
    for row in 0..<fc2.weight.value.shape[0] { w2[row * 64] = 1000 }
    fc2.weight.value = Tensor(shape: fc2.weight.value.shape, scalars: w2)
    return model
  }

  func testMixedPrecisionBeatsUniformInt4AtABudgetBetween() throws {
    let data = blobSplit()
    let model = fragileHead(data)
    let uniform = try technique("weight-only", [("bits", .int(4))]).applied(to: model, context: context(data))
    let step = context(data)
    let mixed = try technique("weight-only", [("target_bits", .float(6.5))]).applied(to: model, context: step)
    let allocation = try XCTUnwrap(step.findings.bitAllocation)
    XCTAssertEqual(allocation.widths, ["fc1": 4, "fc2": 32], "the bits go to the fragile head")
    XCTAssertLessThanOrEqual(allocation.meanBits, 6.5)
    XCTAssertTrue(mixed.nodes.first { $0.name == "fc1" }?.layer is WeightOnlyLinear)
    XCTAssertTrue(mixed.nodes.first { $0.name == "fc2" }?.layer is Linear)
    let compare = { (candidate: Model) in try ModelComparison.compare(candidate, with: model, on: data.test)[0] }
    // Uniform int4 loses half the head's inputs (their group shares the dead weight's scale).
    XCTAssertLessThan(try compare(mixed).meanKL, try compare(uniform).meanKL / 10)
    XCTAssertEqual(step.findings.metricsExtra["allocated_bits_per_weight"], allocation.meanBits)
    XCTAssertEqual(step.findings.metricsExtra["bits_fc2"], 32)
  }

  func testTargetBitsNeedsATrainSplit() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data, epochs: 1)
    let testOnly = DatasetSplit(train: data.train.slice(0..<0), test: data.test)
    XCTAssertThrowsError(
      try technique("weight-only", [("target_bits", .float(6))]).applied(to: model, context: context(testOnly))
    ) { XCTAssertTrue("\($0)".contains("train split"), "\($0)") }
  }
}
