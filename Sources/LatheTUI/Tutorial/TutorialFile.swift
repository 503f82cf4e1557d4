import Foundation
import LatheCompress
import LatheSearch
import Yams

/// A mistake in a tutorial file, with the file, line and key: the same error pipeline files give.
public typealias TutorialFileError = PipelineError

/// Reads tutorial YAML. Every placeholder and check is validated here, so a typo shows up when
/// the file is opened, not halfway through a lesson.
public enum TutorialFile {
  /// Beyond any lesson; a file asking for more is damaged.
  enum Limits {
    static let minutes = 10_000
  }

  public static func read(from url: URL) throws -> Tutorial {
    let text = try YAMLDocument.readText(url)
    return try parse(text, file: url.path, name: url.deletingPathExtension().lastPathComponent)
  }

  /// Parses `text`; a relative `pipeline:` path is taken relative to `file`'s folder.
  public static func parse(_ text: String, file: String, name: String) throws -> Tutorial {
    let root = try YAMLDocument.compose(text, file: file)
    guard let mapping = root?.mapping else {
      throw TutorialFileError(file: file, line: root?.mark?.line ?? 1, message: "expected a map with title and steps")
    }
    var tutorial = Tutorial(
      name: name, title: "", summary: "", minutes: 0, model: "", dataset: nil, pipeline: nil, steps: [], closing: "",
      file: file)
    for (keyNode, valueNode) in mapping {
      let key = keyNode.string ?? ""
      let line = keyNode.mark?.line ?? 0
      switch key {
      case "title": tutorial.title = try scalar(valueNode, file, key)
      case "summary": tutorial.summary = try scalar(valueNode, file, key)
      case "minutes":
        guard let minutes = Int(try scalar(valueNode, file, key)), (1...Limits.minutes).contains(minutes) else {
          throw TutorialFileError(
            file: file, line: line, key: key, message: "expected a whole number of minutes in 1...\(Limits.minutes)")
        }
        tutorial.minutes = minutes
      case "model": tutorial.model = try scalar(valueNode, file, key)
      case "dataset": tutorial.dataset = try scalar(valueNode, file, key)
      case "pipeline": tutorial.pipeline = resolve(try scalar(valueNode, file, key), relativeTo: file)
      case "closing": tutorial.closing = try placeholderText(valueNode, file, key)
      case "steps":
        guard let items = valueNode.sequence, !items.isEmpty else {
          throw TutorialFileError(file: file, line: line, key: key, message: "expected a list of steps")
        }
        tutorial.steps = try items.map { try step($0, file) }
      default:
        throw TutorialFileError(
          file: file, line: line, key: key,
          message: "unknown key; known: title, summary, minutes, model, dataset, pipeline, steps, closing")
      }
    }
    for (key, value) in [("title", tutorial.title), ("model", tutorial.model), ("closing", tutorial.closing)]
    where value.isEmpty {
      throw TutorialFileError(file: file, line: 1, key: key, message: "missing")
    }
    if tutorial.steps.isEmpty { throw TutorialFileError(file: file, line: 1, key: "steps", message: "missing") }
    return tutorial
  }

  /// Paths (with a slash or `.yaml`) are relative to the tutorial; anything else is a bundled name.
  static func resolve(_ path: String, relativeTo file: String) -> String {
    guard path.contains("/") || path.hasSuffix(".yaml"), !path.hasPrefix("/") else { return path }
    return URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL.path
  }

  private static func step(_ node: Node, _ file: String) throws -> TutorialStep {
    let line = node.mark?.line ?? 0
    guard let mapping = node.mapping else {
      throw TutorialFileError(file: file, line: line, key: "steps", message: "each step is a map with text")
    }
    var step = TutorialStep(text: "", line: line)
    for (keyNode, valueNode) in mapping {
      let key = keyNode.string ?? ""
      switch key {
      case "text": step.text = try placeholderText(valueNode, file, key)
      case "do": step.action = try scalar(valueNode, file, key)
      case "done": step.done = try placeholderText(valueNode, file, key)
      case "hints": step.hints = try list(valueNode, file, key)
      case "check": step.checks = try checks(valueNode, file)
      case "keep":
        guard let pairs = valueNode.mapping else {
          throw TutorialFileError(
            file: file, line: valueNode.mark?.line ?? line, key: key, message: "expected {NAME: \"{placeholder}\"}")
        }
        for (name, value) in pairs {
          step.keep.append(
            KeptValue(
              name: name.string ?? "", placeholder: try placeholderText(value, file, "keep.\(name.string ?? "")")))
        }
      default:
        throw TutorialFileError(
          file: file, line: keyNode.mark?.line ?? line, key: key,
          message: "unknown key in a step; known: text, do, check, hints, done, keep")
      }
    }
    if step.text.isEmpty { throw TutorialFileError(file: file, line: line, key: "text", message: "missing") }
    return step
  }

  private static func checks(_ node: Node, _ file: String) throws -> [TutorialCheck] {
    guard let mapping = node.mapping else {
      throw TutorialFileError(file: file, line: node.mark?.line ?? 0, key: "check", message: "expected a map")
    }
    var checks: [TutorialCheck] = []
    for (keyNode, value) in mapping {
      let key = keyNode.string ?? ""
      let line = keyNode.mark?.line ?? 0
      func number(_ node: Node, _ what: String, in range: ClosedRange<Double>) throws -> Double {
        // `contains` is false for NaN, so "nan" and "1e999" both land here.
        guard let number = Double(try scalar(node, file, what)), range.contains(number) else {
          throw TutorialFileError(
            file: file, line: node.mark?.line ?? line, key: what,
            message: "expected a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
      }
      func pairs(_ body: (String, Node) throws -> TutorialCheck) throws {
        guard let map = value.mapping else {
          throw TutorialFileError(file: file, line: line, key: "check.\(key)", message: "expected a map")
        }
        for (name, item) in map { checks.append(try body(name.string ?? "", item)) }
      }
      switch key {
      case "done": checks += try list(value, file, "check.done").map(TutorialCheck.stepDone)
      case "pressed": checks += try list(value, file, "check.pressed").map(TutorialCheck.pressed)
      case "screen": checks.append(.screen(try scalar(value, file, "check.screen")))
      case "model": checks.append(.modelNamed(try scalar(value, file, "check.model")))
      case "search_complete":
        // Bounded before Int(): Int(1e300) traps.
        let count = try number(value, "check.search_complete", in: 1...Double(StudySettings.Limits.trials))
        guard count == count.rounded() else {
          throw TutorialFileError(
            file: file, line: line, key: "check.search_complete", message: "expected a whole number of trials")
        }
        checks.append(.searchComplete(Int(count)))
      case "accuracy_above": checks.append(.accuracyAbove(try number(value, "check.accuracy_above", in: 0...1)))
      case "kernel": try pairs { .layerKernel(layer: $0, contains: try scalar($1, file, "check.kernel.\($0)")) }
      case "sparsity_above":
        try pairs { .layerSparsityAbove(layer: $0, try number($1, "check.sparsity_above.\($0)", in: 0...1)) }
      case "setting":
        try pairs { name, item in
          let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
          guard parts.count == 2 else {
            throw TutorialFileError(
              file: file, line: item.mark?.line ?? line, key: "check.setting.\(name)", message: "use STEP.KEY: VALUE")
          }
          return .setting(step: parts[0], key: parts[1], value: try scalar(item, file, "check.setting.\(name)"))
        }
      default:
        throw TutorialFileError(
          file: file, line: line, key: "check.\(key)",
          message:
            "unknown check; known: done, setting, accuracy_above, kernel, sparsity_above, pressed, screen, model, "
            + "search_complete")
      }
    }
    return checks
  }

  private static func scalar(_ node: Node, _ file: String, _ key: String) throws -> String {
    guard let text = node.scalar?.string else {
      throw TutorialFileError(file: file, line: node.mark?.line ?? 0, key: key, message: "expected a single value")
    }
    return text
  }

  /// Text whose placeholders are all well formed; trailing newlines from `|` blocks dropped.
  private static func placeholderText(_ node: Node, _ file: String, _ key: String) throws -> String {
    let text = try scalar(node, file, key).trimmingCharacters(in: .whitespacesAndNewlines)
    for name in Placeholders.names(in: text) {
      if let problem = Placeholders.problem(name) {
        throw TutorialFileError(file: file, line: node.mark?.line ?? 0, key: key, message: problem)
      }
    }
    if let problem = Placeholders.blockProblem(in: text) {
      throw TutorialFileError(file: file, line: node.mark?.line ?? 0, key: key, message: problem)
    }
    return text
  }

  /// One value or a list of them.
  private static func list(_ node: Node, _ file: String, _ key: String) throws -> [String] {
    if let items = node.sequence { return try items.map { try scalar($0, file, key) } }
    return [try scalar(node, file, key)]
  }

}
