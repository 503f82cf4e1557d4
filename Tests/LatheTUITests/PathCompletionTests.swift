import Foundation
import XCTest

@testable import LatheTUI

/// Tab completion of paths on a real temporary folder: a single match completes whole (folders
/// with their `/`), several complete as far as they agree and are listed, hidden files only
/// when asked for, and `~` and relative paths keep the form they were typed in.
final class PathCompletionTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-complete-\(UUID())")
    let fm = FileManager.default
    try fm.createDirectory(at: folder.appendingPathComponent("models/mnist"), withIntermediateDirectories: true)
    try fm.createDirectory(at: folder.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
    for name in ["models/lenet-5.onnx", "models/lenet-5.safetensors", "models/mlp.onnx", ".hidden.yaml", "notes.md"] {
      fm.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data())
    }
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func complete(_ typed: String) -> PathCompletion.Result { PathCompletion.complete(typed, base: folder) }

  func testASingleFolderMatchCompletesWithItsSlash() {
    XCTAssertEqual(complete("mo"), .init(text: "models/", candidates: []))
    XCTAssertEqual(complete("models/mn"), .init(text: "models/mnist/", candidates: []))
  }

  func testSeveralMatchesCompleteTheCommonPrefixAndAreListed() {
    XCTAssertEqual(
      complete("models/le"),
      .init(text: "models/lenet-5.", candidates: ["lenet-5.onnx", "lenet-5.safetensors"]))
    XCTAssertEqual(
      complete("models/"),
      .init(text: "models/", candidates: ["lenet-5.onnx", "lenet-5.safetensors", "mlp.onnx", "mnist/"]))
    XCTAssertEqual(complete("models/lenet-5.s"), .init(text: "models/lenet-5.safetensors", candidates: []))
  }

  func testNothingMatchingLeavesTheTextAlone() {
    XCTAssertEqual(complete("models/vgg"), .init(text: "models/vgg", candidates: []))
    XCTAssertEqual(complete("nowhere/at/all"), .init(text: "nowhere/at/all", candidates: []))
  }

  func testHiddenFilesOnlyWhenTheNameStartsWithADot() {
    XCTAssertEqual(complete("").candidates, ["models/", "notes.md", "pipelines/"])
    XCTAssertEqual(complete(".h"), .init(text: ".hidden.yaml", candidates: []))
  }

  func testAbsoluteAndHomePathsKeepTheirForm() throws {
    XCTAssertEqual(complete(folder.path + "/pi").text, folder.path + "/pipelines/")
    XCTAssertEqual(complete("~"), .init(text: "~/", candidates: []))
    XCTAssertEqual(PathCompletion.resolve("~/m.onnx", base: folder).path, NSHomeDirectory() + "/m.onnx")
    XCTAssertEqual(PathCompletion.resolve("models/m.onnx", base: folder).path, folder.path + "/models/m.onnx")
  }

  func testThePathFieldCompletesOnTabAndForgetsCandidatesOnTheNextEdit() {
    var field = PathField("models/l")
    XCTAssertTrue(field.handle(.tab, base: folder))
    XCTAssertEqual(field.text, "models/lenet-5.")
    XCTAssertEqual(field.candidates, ["lenet-5.onnx", "lenet-5.safetensors"])
    XCTAssertTrue(field.handle(Key("o"), base: folder))
    XCTAssertEqual(field.candidates, [])
    XCTAssertTrue(field.handle(.tab, base: folder))
    XCTAssertEqual(field.text, "models/lenet-5.onnx")
    XCTAssertFalse(field.handle(.enter, base: folder), "enter is the screen's")
  }
}
