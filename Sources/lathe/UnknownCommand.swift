import ArgumentParser
import Foundation
import LatheCompress

extension Lathe {
  /// Catches a mistyped subcommand before the parser does: the workbench is the default
  /// subcommand and takes no arguments, so `lathe inspct foo` would otherwise answer with the
  /// workbench's usage. A word where a command goes gets "did you mean" instead.
  static func main() {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let word = arguments.first, let message = unknownCommandMessage(word, rest: Array(arguments.dropFirst())) {
      FileHandle.standardError.write(Data(("Error: " + message + "\n").utf8))
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    main(arguments)
  }

  /// Edits between two words, by the project's one Levenshtein distance (the CTC metric's).
  private static func editDistance(_ a: String, _ b: String) -> Int {
    CTCDecoding.editDistance(a.unicodeScalars.map { Int($0.value) }, b.unicodeScalars.map { Int($0.value) })
  }

  /// The command names `lathe` knows, as typed.
  static var commandNames: [String] {
    configuration.subcommands.map { $0._commandName } + ["help"]
  }

  /// Nil when `word` is an option or a command; otherwise what to tell the user.
  static func unknownCommandMessage(_ word: String, rest: [String]) -> String? {
    guard !word.hasPrefix("-"), !commandNames.contains(word) else { return nil }
    let known = commandNames.filter { $0 != "help" }
    // A file where the command goes: the user meant to open or look at it.
    if FileManager.default.fileExists(atPath: word) {
      return "\"\(word)\" is a file, not a command; open it with lathe --model \(word), "
        + "or look inside with lathe inspect \(word)"
    }
    let close = known.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= max(1, $0.0.count / 3) }
      .sorted { $0.1 < $1.1 }.first?.0
    let prefixed = known.filter { $0.hasPrefix(word.lowercased()) }
    let suggestion = close ?? (prefixed.count == 1 ? prefixed[0] : nil)
    var message = "unknown command \"\(word)\""
    if let suggestion {
      message += "; did you mean lathe \(([suggestion] + rest).joined(separator: " "))?"
    }
    return message + ". Commands: \(known.joined(separator: ", ")) (lathe --help describes each)"
  }
}
