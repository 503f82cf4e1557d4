import Foundation
import XCTest

/// The module layout docs/architecture.md describes, checked on the sources themselves, so a
/// type copied into a second module or a pasted block fails CI instead of waiting for a review.
final class SourceLayoutTests: XCTestCase {
  let sources = CommandLineTests.packageRoot.appendingPathComponent("Sources")

  /// Swift files by module, generated code (`*.pb.swift`) left out.
  func swiftFiles() throws -> [(module: String, url: URL)] {
    let fm = FileManager.default
    var files: [(String, URL)] = []
    for module in try fm.contentsOfDirectory(atPath: sources.path).sorted() {
      let folder = sources.appendingPathComponent(module)
      guard let walker = fm.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
      for case let url as URL in walker where url.pathExtension == "swift" && !url.path.hasSuffix(".pb.swift") {
        files.append((module, url))
      }
    }
    return files
  }

  func testNoTypeIsDeclaredInTwoModules() throws {
    let declaration = try NSRegularExpression(
      pattern:
        #"^(?:(?:public|package|internal|private|fileprivate|final|indirect|open)\s+)*(?:struct|enum|class|protocol|actor|typealias)\s+([A-Z]\w*)"#,
      options: [.anchorsMatchLines])
    var modules: [String: Set<String>] = [:]
    for (module, url) in try swiftFiles() {
      let text = try String(contentsOf: url, encoding: .utf8)
      for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        let name = String(text[Range(match.range(at: 1), in: text)!])
        modules[name, default: []].insert(module)
      }
    }
    let twice = modules.filter { $0.value.count > 1 }.map { "\($0.key) in \($0.value.sorted())" }.sorted()
    XCTAssertEqual(twice, [], "top-level types declared in more than one module")
    XCTAssertGreaterThan(modules.count, 100, "the scan found the sources")
  }

  /// Six lines of code (blank lines, comments, imports and lone punctuation passed over, white
  /// space folded) standing twice in Sources/ are one piece of logic that should live once.
  /// The C kernels are left out: their ISA variants repeat on purpose.
  func testNoBlockOfSixLinesIsRepeated() throws {
    let window = 6
    var seen: [[String]: String] = [:]
    var repeated: [String] = []
    for (_, url) in try swiftFiles() {
      let text = try String(contentsOf: url, encoding: .utf8)
      var lines: [(number: Int, text: String)] = []
      for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let folded = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if folded.isEmpty || folded.hasPrefix("//") || folded.hasPrefix("import ") { continue }
        if folded.allSatisfy({ !$0.isLetter && !$0.isNumber }) { continue }
        lines.append((index + 1, folded))
      }
      guard lines.count >= window else { continue }
      let name = url.path.replacingOccurrences(of: sources.path + "/", with: "")
      for start in 0...(lines.count - window) {
        let key = lines[start..<start + window].map(\.text)
        let place = "\(name):\(lines[start].number)"
        if let first = seen[key] {
          repeated.append("\(place) repeats \(first)")
        } else {
          seen[key] = place
        }
      }
    }
    XCTAssertEqual(repeated, [], "blocks of \(window) lines repeated in Sources/")
  }

  /// The command line and the workbench open pipelines, models and datasets through
  /// LatheWorkspace; neither builds a runner or reads a dataset catalogue itself.
  func testTheCLIAndTheWorkbenchDoNotAssembleWorkspaces() throws {
    var found: [String] = []
    for (module, url) in try swiftFiles() where module == "lathe" || module == "LatheTUI" {
      let text = try String(contentsOf: url, encoding: .utf8)
      for call in ["PipelineRunner(", "DatasetCatalog.", "ModelFile.load("] where text.contains(call) {
        found.append("\(url.lastPathComponent): \(call)")
      }
    }
    XCTAssertEqual(found, [])
  }
}
