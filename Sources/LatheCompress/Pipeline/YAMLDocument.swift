import Foundation
import LatheIO
import Yams

/// Reads the YAML files Lathe accepts (pipelines, tutorials) within limits, so a hostile or
/// damaged file gives one line naming the file and line instead of a long stall or a trap.
public enum YAMLDocument {
  /// Larger than any pipeline or tutorial a person writes; Yams builds the whole tree in memory.
  public static let maxBytes = 4 << 20
  /// Deeper than any real file (pipelines use three levels, per-layer ranges four).
  public static let maxDepth = 32

  /// Reads `url` as UTF-8 text, stopping as soon as it passes `maxBytes`.
  public static func readText(_ url: URL) throws -> String {
    do {
      return try TextFile.read(url, limit: maxBytes)
    } catch .tooLarge {
      throw PipelineError(file: url.path, line: 0, message: "larger than the limit of \(maxBytes) bytes")
    } catch .unreadable(_, let reason) {
      throw PipelineError(file: url.path, line: 0, message: "cannot read the file (\(reason))")
    } catch {
      throw PipelineError(file: url.path, line: 0, message: "cannot read the file (not UTF-8 text)")
    }
  }

  /// The document's root, or nil for an empty one. Errors: too large, not YAML, anchors or
  /// aliases, nesting deeper than `maxDepth`.
  public static func compose(_ text: String, file: String) throws -> Node? {
    if text.utf8.count > maxBytes {
      throw PipelineError(
        file: file, line: 0, message: "the text is \(text.utf8.count) bytes; the limit is \(maxBytes)")
    }
    do {
      // Nodes hold their anchors weakly and the parser holds them strongly: the shape check
      // must run while the parser lives, or every anchor reads as nil.
      let parser = try Parser(yaml: text)
      let root = try parser.singleRoot()
      try withExtendedLifetime(parser) {
        if let root { try checkShape(root, file: file) }
      }
      return root
    } catch let error as PipelineError {
      throw error
    } catch let error as YamlError {
      throw PipelineError(
        file: file, line: errorLine(error, in: text), message: "not valid YAML: \(errorSummary(error))")
    } catch {
      throw PipelineError(file: file, line: 0, message: "not valid YAML: \(firstLine(error))")
    }
  }

  /// Walks the tree without recursion: depth and anchors are checked before any reader recurses.
  static func checkShape(_ root: Node, file: String) throws {
    var pending: [(node: Node, depth: Int)] = [(root, 1)]
    while let (node, depth) = pending.popLast() {
      let line = node.mark?.line ?? 0
      if depth > maxDepth {
        throw PipelineError(file: file, line: line, message: "nested deeper than \(maxDepth) levels")
      }
      // An alias can make a small file expand into a huge tree ("billion laughs"); none is needed.
      if case .alias = node {
        throw PipelineError(file: file, line: line, message: "YAML aliases (*name) are not supported")
      }
      if node.anchor != nil {
        throw PipelineError(file: file, line: line, message: "YAML anchors (&name) are not supported")
      }
      switch node {
      case .mapping(let mapping):
        for (key, value) in mapping {
          pending.append((key, depth + 1))
          pending.append((value, depth + 1))
        }
      case .sequence(let sequence):
        for item in sequence { pending.append((item, depth + 1)) }
      case .scalar, .alias: break
      }
    }
  }

  static func errorLine(_ error: YamlError, in text: String) -> Int {
    switch error {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
    case .duplicatedKeysInMapping(_, let context): return context.mark.line
    case .reader(_, let offset?, _, _):
      // The reader counts bytes, not lines.
      return text.utf8.prefix(max(offset, 0)).reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    default: return 0
    }
  }

  /// The problem without Yams's multi-line dump of the surrounding text.
  static func errorSummary(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
      return problem
    case .reader(let problem, _, let value, _):
      return "\(problem.trimmingCharacters(in: CharacterSet(charactersIn: ": "))) (character \(value))"
    case .duplicatedKeysInMapping(let duplicates, _):
      return "\(duplicates.map { "\"\($0)\"" }.joined(separator: ", ")) given twice"
    default: return firstLine(error)
    }
  }

  static func firstLine(_ error: Error) -> String {
    String("\(error)".split(separator: "\n", omittingEmptySubsequences: true).first ?? "unknown error")
  }
}
