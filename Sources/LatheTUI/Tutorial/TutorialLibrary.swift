import Foundation
import LatheIO

/// The tutorial files in a folder (`samples/tutorials/` unless told otherwise), in the order
/// their names sort: files are numbered (`1-first-tour.yaml`) so the list reads as a course.
public struct TutorialLibrary: Sendable {
  public let directory: URL?

  public init(directory: URL?) { self.directory = directory }

  /// `samples/tutorials` of the bundled samples.
  public static func locate() -> TutorialLibrary {
    TutorialLibrary(directory: SamplesDirectory.locate()?.appendingPathComponent("tutorials"))
  }

  public func names() -> [String] {
    guard let directory,
      let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
    else { return [] }
    return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// A tutorial by file name, or by the name without its number (`first-tour` finds
  /// `1-first-tour`), or by a path to a `.yaml` file.
  public func load(_ name: String) throws -> Tutorial {
    if name.hasSuffix(".yaml"), FileManager.default.fileExists(atPath: name) {
      return try TutorialFile.read(from: URL(fileURLWithPath: name))
    }
    let all = names()
    guard let directory, let match = all.first(where: { $0 == name || Self.bareName($0) == name }) else {
      let known = all.isEmpty ? "none found in \(directory?.path ?? "samples/tutorials")" : all.joined(separator: ", ")
      throw TutorialFileError(file: name, line: 0, message: "no such tutorial; known: \(known)")
    }
    return try TutorialFile.read(from: directory.appendingPathComponent(match + ".yaml"))
  }

  /// Every tutorial, or the error that stops each one from loading.
  public func all() -> [(name: String, tutorial: Result<Tutorial, TutorialFileError>)] {
    names().map { name in
      do {
        return (name, .success(try load(name)))
      } catch let error as TutorialFileError {
        return (name, .failure(error))
      } catch {
        return (name, .failure(TutorialFileError(file: name, line: 0, message: "\(error)")))
      }
    }
  }

  /// "1-first-tour" -> "first-tour".
  static func bareName(_ name: String) -> String {
    guard let dash = name.firstIndex(of: "-"), name[..<dash].allSatisfy(\.isNumber) else { return name }
    return String(name[name.index(after: dash)...])
  }
}
