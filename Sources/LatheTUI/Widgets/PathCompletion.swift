import Foundation

/// Tab completion of file paths, as readline does it: a single match is completed whole (a
/// folder gets its `/`), several matches are completed as far as they agree and listed. The
/// typed text keeps its form (`~/`, relative or absolute); only the part after the last `/` is
/// completed. Hidden files are offered only once the typed name starts with a dot.
enum PathCompletion {
  struct Result: Equatable {
    /// The text to put in the field.
    var text: String
    /// The matching names when more than one matches (folders end in `/`), sorted; else empty.
    var candidates: [String]
  }

  /// `typed` completed against the folder it names; a relative path starts from `base`.
  static func complete(_ typed: String, base: URL) -> Result {
    if typed == "~" { return Result(text: "~/", candidates: []) }
    let slash = typed.lastIndex(of: "/")
    let folderPart = slash.map { String(typed[...$0]) } ?? ""
    let prefix = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
    let folder = resolve(folderPart, base: base)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    let matches = names.filter { $0.hasPrefix(prefix) && (prefix.hasPrefix(".") || !$0.hasPrefix(".")) }
      .sorted()
    guard !matches.isEmpty else { return Result(text: typed, candidates: []) }
    func shown(_ name: String) -> String { isFolder(folder.appendingPathComponent(name)) ? name + "/" : name }
    if matches.count == 1 { return Result(text: folderPart + shown(matches[0]), candidates: []) }
    return Result(text: folderPart + commonPrefix(matches), candidates: matches.map(shown))
  }

  /// Where a typed path points: `~` expanded, relative paths under `base`.
  static func resolve(_ typed: String, base: URL) -> URL {
    let expanded = (typed as NSString).expandingTildeInPath
    if expanded.isEmpty { return base }
    return expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : base.appendingPathComponent(expanded)
  }

  static func isFolder(_ url: URL) -> Bool {
    var folder: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &folder) && folder.boolValue
  }

  /// The longest start every name shares, compared by characters.
  static func commonPrefix(_ names: [String]) -> String {
    guard var prefix = names.first.map(Array.init) else { return "" }
    for name in names.dropFirst() {
      let characters = Array(name)
      var count = 0
      while count < min(prefix.count, characters.count), prefix[count] == characters[count] { count += 1 }
      prefix.removeLast(prefix.count - count)
    }
    return String(prefix)
  }
}
