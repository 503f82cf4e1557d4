import Foundation

/// `o`: pick a model file (.safetensors or .onnx) from the file system, then name the dataset
/// (a catalog name like "mnist" or a path) and open both in the session.
public final class OpenScreen: Screen {
  static let modelExtensions: Set<String> = ["safetensors", "onnx"]

  private(set) var directory: URL
  private(set) var entries: [(name: String, isDirectory: Bool)] = []
  private var selected = 0
  /// Set once a model is picked: typing the dataset.
  private(set) var model: URL?
  private var dataset = TextField()
  private var error: String?

  public init(directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
    self.directory = directory.standardizedFileURL
    list()
  }

  public var title: String { "open model" }
  public var capturesText: Bool { model != nil }
  public var bindings: [KeyBinding] { model == nil ? Self.browsingBindings : Self.datasetBindings }

  /// Picking a file.
  static var browsingBindings: [KeyBinding] {
    [
      KeyBinding([.enter, .right], hint: ("enter", "open"), help: ("enter", "open folder / pick file")),
      KeyBinding([.backspace], hint: ("backspace", "parent"), help: ("backspace", "parent folder")),
      KeyBinding([.escape], hint: ("esc", "back")), KeyBinding(KeyBinding.verticalKeys),
    ]
  }

  /// Typing the dataset for the picked model; every other key edits it.
  static var datasetBindings: [KeyBinding] {
    [KeyBinding([.enter], hint: ("enter", "open model")), KeyBinding([.escape], hint: ("esc", "pick another file"))]
  }

  /// Folders first, then model files; hidden files left out.
  private func list() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    var folders: [String] = []
    var files: [String] = []
    for name in names where !name.hasPrefix(".") {
      var isDirectory: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
      if isDirectory.boolValue {
        folders.append(name)
      } else if OpenScreen.modelExtensions.contains((name as NSString).pathExtension.lowercased()) {
        files.append(name)
      }
    }
    entries = [("..", true)] + folders.sorted().map { ($0, true) } + files.sorted().map { ($0, false) }
    selected = min(selected, entries.count - 1)
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let inner = Panel.draw(canvas, title: "Open  \(directory.path)", focused: true, context: context)
    if let model {
      inner.text(1, 0, "model:   \(model.path)", context.text, ellipsis: context.glyphs.ellipsis)
      inner.text(1, 2, "dataset:", context.style(.title))
      dataset.draw(inner, x: 10, y: 2, width: min(40, inner.width - 11), context: context)
      inner.text(
        10, 3, "a catalog name (mnist, fashion-mnist, ...) or a path; empty for the model's default",
        context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    } else {
      let rows = entries.map { entry -> [TableCell] in
        [.text(entry.isDirectory ? entry.name + "/" : entry.name, entry.isDirectory ? .graphText : nil)]
      }
      if entries.count == 1 {
        inner.text(1, inner.height - 1, "no .safetensors or .onnx files here", context.style(.inactive))
      }
      Table(columns: [TableColumn("name", .weight(1))], rows: rows, selected: selected)
        .draw(
          inner.sub(Rect(x: 0, y: 0, width: inner.width, height: inner.height - 1)), context: context, focused: true)
    }
    if let error {
      inner.text(1, inner.height - 1, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    if let model {
      switch key {
      case .escape:
        self.model = nil
        error = nil
      case .enter:
        let name = dataset.text.trimmingCharacters(in: .whitespaces)
        do {
          try app.session.open(model: model.path, dataset: name.isEmpty ? nil : name, pipeline: nil)
          app.post(.info, "opened \(model.lastPathComponent)")
          return .close
        } catch {
          self.error = "\(error)"
        }
      default: _ = dataset.handle(key)
      }
      return .handled
    }
    switch key {
    case .escape: return .close
    case .backspace:
      directory = directory.deletingLastPathComponent()
      selected = 0
      list()
    case .enter, .right:
      guard selected < entries.count else { return .handled }
      let entry = entries[selected]
      if entry.isDirectory {
        directory =
          (entry.name == ".." ? directory.deletingLastPathComponent() : directory.appendingPathComponent(entry.name))
          .standardizedFileURL
        selected = 0
        list()
      } else {
        model = directory.appendingPathComponent(entry.name)
      }
      error = nil
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selected = max(0, min(entries.count - 1, selected + step))
    }
    return .handled
  }
}
