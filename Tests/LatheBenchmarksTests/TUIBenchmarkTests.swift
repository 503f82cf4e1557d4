import LatheTUI
import XCTest

@testable import LatheBenchmarks

/// The workbench frame benchmark and the made-up session it draws.
final class TUIBenchmarkTests: XCTestCase {
  func testFrameBuildBenchmarkRuns() {
    let milliseconds = TUIBenchmark.frameBuildMilliseconds(width: 200, height: 60, frames: 20)
    print("frame build 200x60 (debug): \(milliseconds) ms")
    XCTAssertGreaterThan(milliseconds, 0)
    XCTAssertLessThan(milliseconds, 200, "debug build; the 5 ms target is for release")
    let search = TUIBenchmark.frameBuildMilliseconds(width: 200, height: 60, frames: 20, screen: "search")
    print("search screen frame build 200x60 (debug): \(search) ms")
    XCTAssertLessThan(search, 200)
    let large = TUIBenchmark.frameBuildMilliseconds(width: 200, height: 60, frames: 20, layers: 500)
    print("home frame build 200x60 with 500 layers (debug): \(large) ms")
    XCTAssertLessThan(large, 200)
  }

  /// The 500-layer session draws as a real import does: blocks, time and SQNR columns.
  func testTheLargeSyntheticModelDrawsBlocksAndMeasuredColumns() {
    let app = WorkbenchApp(session: SyntheticSession(layers: 500, steps: 3))
    let frame = app.render(width: 200, height: 60).text()
    XCTAssertTrue(frame.contains("▾ features.0.* (4)"), frame)
    XCTAssertTrue(frame.contains("time") && frame.contains("SQNR") && frame.contains("linear+relu"), frame)
    XCTAssertTrue(frame.contains("/625 · 500 layers"), "500 layers in 125 blocks: \(frame)")
  }

  func testBenchmarkStudyDrawsOnTheSearchScreen() {
    let app = WorkbenchApp(session: SyntheticSession(layers: 4, steps: 3))
    app.handle(Key("s"))
    let frame = app.render(width: 200, height: 60).text()
    XCTAssertTrue(frame.contains("58/80 finished · 2 running"), frame)
    XCTAssertTrue(frame.contains("Which settings matter") && frame.contains("fc1"), frame)
  }
}
