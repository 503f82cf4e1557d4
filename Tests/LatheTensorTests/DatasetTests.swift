import LatheTensor
import XCTest

/// The two extensions of `Dataset`: named inputs for multi-input models, and sets without labels.
final class DatasetTests: XCTestCase {
  private func rows(_ count: Int, width: Int, base: Float) -> Tensor<Float> {
    Tensor<Float>(shape: [count, width]) { for i in 0..<$0.count { $0[i] = base + Float(i) } }
  }

  func testSubsetCarriesNamedInputsAndLabels() {
    let ids = rows(3, width: 2, base: 0)
    let mask = rows(3, width: 1, base: 100)
    let data = Dataset(
      name: "pairs", inputs: ids, namedInputs: ["ids": ids, "mask": mask], labels: [2, 0, 1], classCount: 3)
    XCTAssertTrue(data.isLabelled)
    let picked = data.subset([2, 0])
    XCTAssertEqual(picked.count, 2)
    XCTAssertEqual(picked.labels, [1, 2])
    XCTAssertEqual(picked.inputs.scalars, [4, 5, 0, 1])
    XCTAssertEqual(picked.namedInputs["ids"]?.scalars, [4, 5, 0, 1])
    XCTAssertEqual(picked.namedInputs["mask"]?.scalars, [102, 100])
    XCTAssertEqual(picked.namedInputs["mask"]?.shape, [2, 1])
  }

  func testLabelFreeSetsCountTheirInputs() {
    let data = Dataset(name: "raw", inputs: rows(4, width: 3, base: 0), labels: nil, classCount: 0)
    XCTAssertFalse(data.isLabelled)
    XCTAssertEqual(data.count, 4)
    XCTAssertEqual(data.labels, [])
    let tail = data.slice(2..<4)
    XCTAssertEqual(tail.count, 2)
    XCTAssertFalse(tail.isLabelled)
    XCTAssertEqual(tail.inputs.scalars, [6, 7, 8, 9, 10, 11])
  }

  func testTheLabelledInitializerKeepsItsMeaning() {
    let data = Dataset(name: "old", inputs: rows(2, width: 1, base: 0), labels: [1, 0], classCount: 2)
    XCTAssertTrue(data.isLabelled)
    XCTAssertEqual(data.namedInputs.count, 0)
    XCTAssertEqual(data.count, 2)
  }
}
