import Foundation

/// `{if A OP B}…{else}…{end}` in tutorial text: the lesson a learner reads follows the numbers
/// their own run produced, not the numbers the tutorial's author saw. A and B are placeholders
/// (without braces) or plain numbers; they compare as the numbers the panels print ("13.7k",
/// "97.20%", "1.07 MB", "812 µs"), so a lesson never contradicts what is on screen.
///
/// OP is `<`, `<=`, `>`, `>=`, `==`, `!=` (as printed), `~` (within 2% of each other), `>>` or
/// `<<` (more or less by over 2%: a difference worth a sentence). A value not measured yet makes
/// the condition false, so the `{else}` text shows.
struct LessonCondition: Equatable {
  enum Operator: String, CaseIterable {
    // Two-character operators first, so `<=` is not read as `<`.
    case lessOrEqual = "<="
    case greaterOrEqual = ">="
    case equal = "=="
    case notEqual = "!="
    case muchLess = "<<"
    case muchGreater = ">>"
    case less = "<"
    case greater = ">"
    case about = "~"
  }

  var left: String
  var op: Operator
  var right: String

  /// The relative difference `~`, `<<` and `>>` treat as none.
  static let tolerance = 0.02

  /// Parses the text after `if `: `step.int8.nonzeros >> kept.nonzeros`.
  init?(_ text: String) {
    let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard words.count == 3, let op = Operator(rawValue: words[1]) else { return nil }
    (left, self.op, right) = (words[0], op, words[2])
  }

  /// Why the condition can never be evaluated (an operand that is no placeholder or number), or nil.
  var problem: String? {
    for operand in [left, right] where Double(operand) == nil {
      if let problem = Placeholders.problem(operand) { return problem }
    }
    return nil
  }

  /// True when both sides have values now and they compare as asked.
  func holds(_ value: (String) -> String) -> Bool {
    func number(_ operand: String) -> Double? { Double(operand) ?? Self.number(displayed: value(operand)) }
    guard let a = number(left), let b = number(right) else { return false }
    let scale = max(abs(a), abs(b))
    switch op {
    case .less: return a < b
    case .lessOrEqual: return a <= b
    case .greater: return a > b
    case .greaterOrEqual: return a >= b
    case .equal: return a == b
    case .notEqual: return a != b
    case .about: return abs(a - b) <= Self.tolerance * scale
    case .muchGreater: return a - b > Self.tolerance * scale
    case .muchLess: return b - a > Self.tolerance * scale
    }
  }

  /// The number a panel's text stands for: "13.7k" → 13700, "1.07 MB" → 1.07e6, "812 µs" →
  /// 0.000812, "97.20%" → 97.2, "3.7x" → 3.7; nil for text that is not one ("…", a kernel name).
  static func number(displayed text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }
    guard let value = Double(digits) else { return nil }
    let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
    let multipliers: [String: Double] = [
      "": 1, "%": 1, "x": 1, "k": 1e3, "M": 1e6, "G": 1e9, "B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9,
      "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824, "ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3,
      "s": 1, "min": 60, "h": 3600,
    ]
    return multipliers[unit].map { value * $0 }
  }
}

extension Placeholders {
  /// Why the `{if}`/`{else}`/`{end}` blocks of `text` are malformed (one not closed, an `{else}`
  /// or `{end}` with no `{if}`, an `{if}` inside another), or nil.
  static func blockProblem(in text: String) -> String? {
    var open: String?
    var sawElse = false
    for name in names(in: text) {
      if name.hasPrefix("if ") {
        if let open { return "{\(name)} inside {\(open)}: close the first with {end}" }
        open = name
        sawElse = false
      } else if name == "else" {
        guard open != nil, !sawElse else { return "{else} with no {if} before it" }
        sawElse = true
      } else if name == "end" {
        guard open != nil else { return "{end} with no {if} before it" }
        open = nil
      }
    }
    return open.map { "{\($0)} is never closed with {end}" }
  }
}
