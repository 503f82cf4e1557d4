import Foundation

/// An edited pipeline written back into the text it was read from, so that what the user wrote
/// by hand (comments, key order, blank lines, the `search:` section) survives a save from the
/// workbench.
///
/// The text is cut into the part before the first step, one block per step (a step's item
/// with the comment lines right above it) and the part after the last step. A step the edit
/// left unchanged keeps its block word for word; a new or changed step is written fresh.
/// When the text cannot be cut that way (flow-style `steps: [...]`, no steps), or the result
/// would not read back as the edited pipeline, the plain `PipelineSpec.yaml()` is used.
public enum PipelineText {
  /// `edited` as text, reusing `original`'s blocks; `original` is the text `source` was parsed from.
  public static func render(_ edited: PipelineSpec, original: String, source: PipelineSpec) -> String {
    guard let layout = Layout(text: original, source: source) else { return edited.yaml() }
    var used = Set<Int>()
    var lines = layout.head
    for step in edited.steps {
      // The same step (name, technique and values) anywhere in the original keeps its text.
      if let match = source.steps.indices.first(where: {
        !used.contains($0) && source.steps[$0].hasSameSettings(as: step)
      }) {
        used.insert(match)
        lines += layout.blocks[match]
      } else {
        lines += fresh(step, indent: layout.indent)
      }
    }
    lines += layout.tail
    let text = lines.joined(separator: "\n")
    // Only text that reads back as exactly the edited pipeline is worth keeping.
    guard let reread = try? PipelineSpec.parse(text, file: "pipeline", defaultName: edited.name),
      reread.name == edited.name, reread.steps.count == edited.steps.count,
      zip(reread.steps, edited.steps).allSatisfy({ $0.hasSameSettings(as: $1) })
    else { return edited.yaml() }
    return text
  }

  /// A step written in the same style as `PipelineSpec.yaml()`, at the file's indentation.
  static func fresh(_ step: StepSpec, indent: String) -> [String] {
    var lines = [
      "\(indent)- name: \(ParameterValue.string(step.name).yaml)", "\(indent)  technique: \(step.technique)",
    ]
    for (key, value) in step.parameters { lines.append("\(indent)  \(key): \(value.yaml)") }
    return lines
  }

  /// Where the steps sit in the original text.
  struct Layout {
    var head: [String]
    var blocks: [[String]]
    var tail: [String]
    /// What comes before the `-` of a step item (e.g. two spaces).
    var indent: String

    init?(text: String, source: PipelineSpec) {
      let lines = text.components(separatedBy: "\n")
      let starts = source.steps.map { $0.line - 1 }  // 0-based lines of the step items
      guard !starts.isEmpty, starts.allSatisfy({ $0 >= 0 && $0 < lines.count }),
        zip(starts, starts.dropFirst()).allSatisfy({ $0 < $1 })
      else { return nil }
      // Each item's line must read "<indent>- ..." with the same indent: a block list.
      let indents = starts.map { start -> String? in
        let line = lines[start]
        let indent = line.prefix { $0 == " " }
        return line.dropFirst(indent.count).hasPrefix("-") ? String(indent) : nil
      }
      guard let indent = indents[0], indents.allSatisfy({ $0 == indent }) else { return nil }
      // The steps end at the next top-level key after the last item (or at the end of the text).
      var end = lines.count
      for index in (starts.last! + 1)..<lines.count where Self.isTopLevelKey(lines[index]) {
        end = index
        break
      }
      // Comment lines right above an item belong to it.
      let blockStarts = starts.map { start -> Int in
        var top = start
        while top > 0, lines[top - 1].trimmingCharacters(in: .whitespaces).hasPrefix("#"),
          lines[top - 1].hasPrefix(" ") || indent.isEmpty
        {
          top -= 1
        }
        return top
      }
      // The last block ends before the trailing blank and comment lines that lead into what follows.
      var lastEnd = end
      while lastEnd > starts.last! + 1, Self.isBlankOrComment(lines[lastEnd - 1]) { lastEnd -= 1 }
      head = Array(lines[..<blockStarts[0]])
      blocks = blockStarts.indices.map { i in
        Array(lines[blockStarts[i]..<(i + 1 < blockStarts.count ? blockStarts[i + 1] : lastEnd)])
      }
      tail = Array(lines[lastEnd...])
      self.indent = indent
    }

    static func isTopLevelKey(_ line: String) -> Bool {
      guard let first = line.first else { return false }
      return first != " " && first != "#" && first != "-" && first != "\t"
    }

    static func isBlankOrComment(_ line: String) -> Bool {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      return trimmed.isEmpty || trimmed.hasPrefix("#")
    }
  }
}

extension StepSpec {
  /// The same step whatever the order of its parameters: same name, technique and values.
  /// (`==` also compares the order, which a form that sorts its fields does not keep.)
  public func hasSameSettings(as other: StepSpec) -> Bool {
    guard name == other.name, technique == other.technique, parameters.count == other.parameters.count else {
      return false
    }
    return parameters.allSatisfy { mine in other[mine.key].map { $0 == mine.value } ?? false }
  }
}
