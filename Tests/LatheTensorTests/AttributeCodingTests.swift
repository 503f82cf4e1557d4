import Foundation
import XCTest

@testable import LatheTensor

/// Layer attributes as a model file's JSON holds them: JSON has no infinities or NaN, so those
/// floats are written as "inf", "-inf" and "nan" and read back as floats.
final class AttributeCodingTests: XCTestCase {
  private func roundTrip(_ spec: LayerSpec) throws -> (json: String, back: LayerSpec) {
    let data = try JSONEncoder().encode(spec)
    return (String(decoding: data, as: UTF8.self), try JSONDecoder().decode(LayerSpec.self, from: data))
  }

  func testNonFiniteFloatsRoundTrip() throws {
    let spec = LayerSpec(
      op: "clip", attributes: ["max": .float(.infinity), "min": .float(-.infinity), "fill": .float(.nan)])
    let (json, back) = try roundTrip(spec)
    XCTAssertTrue(json.contains("\"inf\"") && json.contains("\"-inf\"") && json.contains("\"nan\""), json)
    XCTAssertEqual(try back.float("max", default: 0), .infinity)
    XCTAssertEqual(try back.float("min", default: 0), -.infinity)
    XCTAssertTrue(try back.float("fill", default: 0).isNaN)
  }

  func testFiniteFloatsAndOtherStringsAreUnchanged() throws {
    let spec = LayerSpec(op: "x", attributes: ["alpha": .float(0.25), "mode": .string("CRD"), "name": .string("info")])
    XCTAssertEqual(try roundTrip(spec).back, spec)
  }
}
