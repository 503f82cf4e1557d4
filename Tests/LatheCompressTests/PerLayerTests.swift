import LatheTensor
import XCTest

@testable import LatheCompress

/// Per-layer settings select layers by name, by glob pattern or as `last`, so one pipeline
/// serves any model.
final class PerLayerTests: XCTestCase {
  let layers = ["/stem/conv", "/blocks.0/dw", "/blocks.0/pw", "/blocks.1/dw", "/head/fc"]

  func testExactNameThenLastThenTheMostSpecificPattern() throws {
    let setting = PerLayer<Int>.each(["*": 4, "/blocks.0/*": 6, "/blocks.0/pw": 2, "last": 8])
    let resolved = try setting.resolved(over: layers)
    XCTAssertEqual(resolved.value(for: "/stem/conv"), 4)
    XCTAssertEqual(resolved.value(for: "/blocks.0/dw"), 6)
    XCTAssertEqual(resolved.value(for: "/blocks.0/pw"), 2)
    XCTAssertEqual(resolved.value(for: "/blocks.1/dw"), 4)
    XCTAssertEqual(resolved.value(for: "/head/fc"), 8)
  }

  func testLayersNoKeySelectsGetNothingAndOneValueServesAll() throws {
    let resolved = try PerLayer<Double>.each(["*/dw": 0.5]).resolved(over: layers)
    XCTAssertEqual(resolved.value(for: "/blocks.1/dw"), 0.5)
    XCTAssertNil(resolved.value(for: "/head/fc"))
    XCTAssertEqual(try PerLayer<Double>.all(0.3).resolved(over: layers).value(for: "/head/fc"), 0.3)
  }

  func testAKeyThatSelectsNothingIsAnErrorNamingIt() {
    XCTAssertThrowsError(try PerLayer<Int>.each(["fc1": 4]).resolved(over: layers)) {
      XCTAssertEqual(($0 as? PerLayer<Int>.Unmatched)?.key, "fc1")
    }
    XCTAssertThrowsError(try PerLayer<Int>.each(["/decoder/*": 4]).resolved(over: layers))
    XCTAssertThrowsError(try PerLayer<Int>.each(["last": 4]).resolved(over: []))
  }

  func testALayerNamedLastIsSelectedByItsName() throws {
    let resolved = try PerLayer<Int>.each(["last": 8]).resolved(over: ["last", "fc"])
    XCTAssertEqual(resolved.value(for: "last"), 8)
    XCTAssertNil(resolved.value(for: "fc"))
  }

  func testStepErrorsNameTheKeyAndTheLayers() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data, epochs: 1)
    XCTAssertThrowsError(
      try technique("prune", [("sparsity", .map([(key: "conv*", value: .float(0.5))]))]).applied(
        to: model, context: context(data))
    ) {
      XCTAssertTrue("\($0)".contains("\"conv*\""), "\($0)")
      XCTAssertTrue("\($0)".contains("fc1"), "\($0)")
    }
  }

  func testWeightOnlyWithAPatternAndLastOnAnMLP() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data, epochs: 1)
    let linears = model.nodes.filter { $0.layer is Linear }.map(\.name)
    let quantized = try technique(
      "weight-only", [("bits", .map([(key: "*", value: .int(4)), (key: "last", value: .int(32))]))]
    ).applied(to: model, context: context(data))
    let widths = linears.map { name in
      (quantized.nodes.first { $0.name == name }?.layer as? WeightOnlyLinear)?.weights.bits
    }
    XCTAssertEqual(widths.dropLast().map { $0 }, Array(repeating: 4, count: linears.count - 1))
    XCTAssertTrue(quantized.nodes.first { $0.name == linears.last }?.layer is Linear, "last kept fp32")
  }
}
