import Foundation
import LatheIO
import XCTest

/// An output folder that cannot be made is one line naming it and the system's reason, not
/// Foundation's NSCocoaErrorDomain dump.
final class OutputFolderTests: XCTestCase {
  func testUncreatableFolderIsOneLine() {
    XCTAssertThrowsError(try AtomicFile.createFolder(URL(fileURLWithPath: "/proc/x/y"))) { error in
      XCTAssertEqual("\(error)", "cannot create folder /proc/x/y: No such file or directory")
    }
  }

  func testFolderUnderAFileIsOneLine() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-file-\(UUID().uuidString)")
    try Data().write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    XCTAssertThrowsError(try AtomicFile.createFolder(file.appendingPathComponent("sub"))) { error in
      XCTAssertEqual("\(error)", "cannot create folder \(file.path)/sub: Not a directory")
    }
  }

  func testCreatesNestedFoldersAndAcceptsExistingOnes() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-dir-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let nested = root.appendingPathComponent("a/b/c")
    try AtomicFile.createFolder(nested)
    try AtomicFile.createFolder(nested)
    var isFolder: ObjCBool = false
    XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isFolder) && isFolder.boolValue)
  }

  func testTextFileReadStopsAtTheLimit() {
    XCTAssertThrowsError(try TextFile.read(URL(fileURLWithPath: "/dev/zero"), limit: 1000)) { error in
      XCTAssertEqual("\(error)", "/dev/zero: larger than the limit of 1000 bytes for this kind of file")
    }
  }
}
