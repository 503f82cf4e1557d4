import Foundation
import LatheIO
import LatheWorkspace

/// `o`: open a model, a dataset or a pipeline. Browses folders listing what the workbench opens
/// (with kinds and sizes), filters the list as you type after `/`, takes a typed path after `:`
/// (tab completes it, as in a shell), and lists recent files with `r`.
///
/// - A model opens with a dataset, asked next (the current one filled in).
/// - A dataset re-opens the current model, with its pipeline, on that dataset.
/// - A pipeline opens on the current model and dataset (or, with none open, the model it names).
///
/// Each replaces the session's model and steps, so with unsaved work the first enter says what
/// would be lost and the second opens.
public final class OpenScreen: Screen {
  enum Mode: Equatable {
    case browsing
    /// Typing the filter (`/`).
    case filtering
    /// Typing a path (`:`).
    case typingPath
    /// A model was picked: typing its dataset.
    case typingDataset(model: URL)
  }

  private(set) var mode = Mode.browsing
  private(set) var directory: URL
  /// Showing the recent files instead of the folder (`r`).
  private(set) var showingRecent = false
  /// The folder's (or the recent list's) entries before the filter.
  private(set) var entries: [OpenableFile] = []
  private(set) var filter = TextField()
  private(set) var selected = 0
  private var path = PathField()
  private var dataset = PathField()
  private var error: String?
  /// Set once the user was told what opening would lose; the next open goes ahead.
  private var warnedUnsaved = false

  public init(directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
    self.directory = directory.standardizedFileURL
    list()
  }

  public var title: String { "open" }
  public var capturesText: Bool { mode != .browsing }

  public var bindings: [KeyBinding] {
    switch mode {
    case .browsing: return Self.browsingBindings
    case .filtering: return Self.filteringBindings
    case .typingPath: return Self.pathBindings
    case .typingDataset: return Self.datasetBindings
    }
  }

  /// Picking from the list.
  static var browsingBindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", "open"), help: ("enter", "open file / enter folder")),
      KeyBinding([.right, Key("l")], help: ("right / l", "into a folder (a model or dataset folder too)")),
      KeyBinding([.left, .backspace, Key("h")], hint: ("h", "parent"), help: ("left / h", "parent folder")),
      KeyBinding([Key("/")], hint: ("/", "filter"), help: ("/", "filter the list as you type")),
      KeyBinding([Key(":")], hint: (":", "path"), help: (":", "type a path (tab completes)")),
      KeyBinding([Key("r")], hint: ("r", "recent"), help: ("r", "recent files / folder")),
      KeyBinding([.home, .end], help: ("home / end", "first / last")),
      KeyBinding([.escape], hint: ("esc", "back"), help: ("esc", "clear the filter, then back")),
      KeyBinding(KeyBinding.verticalKeys),
    ]
  }

  /// Typing the filter; every other key edits it.
  static var filteringBindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", "keep filter")), KeyBinding([.escape], hint: ("esc", "clear")),
      KeyBinding([.up, .down, .pageUp, .pageDown], hint: ("up/down", "move")),
    ]
  }

  /// Typing a path; every other key edits it.
  static var pathBindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", "open")), KeyBinding([.tab], hint: ("tab", "complete")),
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  /// Typing the dataset for the picked model; every other key edits it.
  static var datasetBindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", "open model")), KeyBinding([.tab], hint: ("tab", "complete")),
      KeyBinding([.escape], hint: ("esc", "pick another file")),
    ]
  }

  /// The entries the filter lets through: those whose name contains it, ignoring case.
  var visible: [OpenableFile] {
    let wanted = filter.text.lowercased()
    guard !wanted.isEmpty else { return entries }
    return entries.filter { $0.name.lowercased().contains(wanted) }
  }

  /// Reads the folder (or the recent files) again.
  private func list(recent: RecentFiles = RecentFiles()) {
    if showingRecent {
      // A recent file that is gone stays listed, without a size, so the user sees why.
      entries = recent.entries.map { entry in
        let url = URL(fileURLWithPath: entry.path)
        var file =
          OpenableFile.at(url)
          ?? OpenableFile(name: entry.path, url: url, isFolder: false, kind: entry.kind, bytes: nil)
        file.name = Self.abbreviated(entry.path)
        file.kind = entry.kind
        return file
      }
    } else {
      do {
        let parent = OpenableFile(
          name: "..", url: directory.deletingLastPathComponent(), isFolder: true, kind: nil, bytes: nil)
        entries = (directory.path == "/" ? [] : [parent]) + (try OpenableFile.list(directory))
      } catch {
        entries = []
        self.error = "cannot list \(directory.path): \(error.localizedDescription)"
      }
    }
    selected = max(0, min(selected, visible.count - 1))
  }

  /// `/home/me/x` as `~/x`.
  static func abbreviated(_ path: String) -> String {
    let home = NSHomeDirectory()
    return path.hasPrefix(home + "/") ? "~" + path.dropFirst(home.count) : path
  }

  // MARK: drawing

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let place = showingRecent ? "recent files" : Self.abbreviated(directory.path)
    let inner = Panel.draw(
      canvas, title: "Open · \(place)", focused: true, context: context,
      note: "models, datasets, pipelines")
    var top = 0
    switch mode {
    case .typingDataset(let model):
      inner.text(1, 0, "model:   \(model.path)", context.text, ellipsis: context.glyphs.ellipsis)
      inner.text(1, 2, "dataset:", context.style(.title))
      dataset.draw(inner, x: 10, y: 2, width: max(10, inner.width - 11), context: context)
      inner.text(
        10, 3, "a catalog name (mnist-5k, digits, ...) or a path; empty for the model's own",
        context.style(.inactive), ellipsis: context.glyphs.ellipsis)
      dataset.drawCandidates(
        inner, x: 10, y: 4, width: inner.width - 11, height: max(0, inner.height - 6), context: context)
      drawBottomLine(inner, app: app)
      return
    case .typingPath:
      inner.text(1, 0, "path:", context.style(.title))
      path.draw(inner, x: 7, y: 0, width: max(10, inner.width - 8), context: context)
      let lines = min(4, path.candidates.isEmpty ? 0 : inner.height / 3)
      path.drawCandidates(inner, x: 7, y: 1, width: inner.width - 8, height: lines, context: context)
      top = 1 + lines + 1
    case .browsing, .filtering:
      break
    }
    let shown = visible
    let tableHeight = max(0, inner.height - top - 1)
    if shown.isEmpty {
      let why =
        entries.filter({ $0.name != ".." }).isEmpty
        ? (showingRecent
          ? "nothing opened yet" : "no models (.onnx, .safetensors), datasets or pipelines (.yaml) here")
        : "nothing matches \"\(filter.text)\""
      inner.text(1, top + 1, why, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    }
    let rows = shown.map { entry -> [TableCell] in
      let name = entry.isFolder && !showingRecent ? entry.name + "/" : entry.name
      let missing = showingRecent && !FileManager.default.fileExists(atPath: entry.url.path)
      return [
        .text(name, entry.isFolder && entry.kind == nil ? .graphText : nil),
        .text(missing ? "missing" : entry.kind?.rawValue ?? "", missing ? .error : .inactive),
        .text(entry.bytes.map { ByteCount.format($0) } ?? "", .inactive),
      ]
    }
    let table = Table(
      columns: [
        TableColumn("name", .weight(1)), TableColumn("kind", .fixed(8)), TableColumn("size", .fixed(9), .right),
      ],
      rows: rows, selected: shown.isEmpty ? nil : selected)
    table.draw(
      inner.sub(Rect(x: 0, y: top, width: inner.width, height: tableHeight)), context: context,
      focused: mode != .typingPath)
    drawBottomLine(inner, app: app)
  }

  /// The last line: an error, else the filter being typed or kept, else what is listed.
  private func drawBottomLine(_ inner: Canvas, app: WorkbenchApp) {
    let context = app.context
    let y = inner.height - 1
    if let error {
      inner.text(1, y, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
    } else if mode == .filtering || !filter.text.isEmpty {
      let end = inner.text(1, y, "/", context.style(.highlight, .bold))
      if mode == .filtering {
        filter.draw(inner, x: end, y: y, width: max(10, min(40, inner.width - end - 20)), context: context)
      } else {
        inner.text(end, y, filter.text, context.style(.highlight))
      }
      let count = "\(visible.count) of \(entries.filter { $0.name != ".." }.count)"
      inner.text(inner.width - CharacterWidth.of(count) - 1, y, count, context.style(.inactive))
    } else if case .browsing = mode {
      let recent = app.recentFiles.entries.count
      let note =
        showingRecent
        ? "r goes back to the folder"
        : "/ filter  : type a path" + (recent > 0 ? "  r recent files (\(recent))" : "")
      inner.text(1, y, note, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    }
  }

  // MARK: keys

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch mode {
    case .browsing: return browse(key, app: app)
    case .filtering:
      switch key {
      case .enter: mode = .browsing
      case .escape:
        filter = TextField()
        mode = .browsing
      case .up, .down, .pageUp, .pageDown: move(key.verticalStep ?? 0)
      default:
        if filter.handle(key) { selected = 0 }
      }
      return .handled
    case .typingPath:
      switch key {
      case .escape: mode = .browsing
      case .enter: return openTyped(app: app)
      default: if path.handle(key, base: directory) { error = nil }
      }
      return .handled
    case .typingDataset(let model):
      switch key {
      case .escape:
        mode = .browsing
        error = nil
      case .enter:
        let name = dataset.text.trimmingCharacters(in: .whitespaces)
        let resolved = name.isEmpty ? nil : Self.datasetArgument(name, base: directory)
        return perform(app: app, file: model, kind: .model) {
          try app.session.open(model: model.path, dataset: resolved, pipeline: nil)
        }
      default: if dataset.handle(key, base: directory) { error = nil }
      }
      return .handled
    }
  }

  private func browse(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    let shown = visible
    switch key {
    case .escape:
      guard filter.text.isEmpty else {
        filter = TextField()
        return .handled
      }
      return .close
    case .left, .backspace, Key("h"):
      guard !showingRecent else { return .handled }
      go(to: directory.deletingLastPathComponent())
    case .right, Key("l"):
      guard selected < shown.count, shown[selected].isFolder else { return .handled }
      go(to: shown[selected].url)
    case .enter:
      guard selected < shown.count else { return .handled }
      return choose(shown[selected], app: app)
    case Key("/"):
      mode = .filtering
      error = nil
    case Key(":"):
      path = PathField(directory.path == "/" ? "/" : directory.path + "/")
      mode = .typingPath
      error = nil
    case Key("r"):
      showingRecent.toggle()
      selected = 0
      filter = TextField()
      error = nil
      list(recent: app.recentFiles)
    case .home: selected = 0
    case .end: selected = max(0, shown.count - 1)
    default:
      guard let step = key.verticalStep else { return .unhandled }
      move(step)
    }
    return .handled
  }

  private func move(_ step: Int) {
    selected = max(0, min(visible.count - 1, selected + step))
  }

  private func go(to folder: URL) {
    directory = folder.standardizedFileURL
    showingRecent = false
    selected = 0
    filter = TextField()
    error = nil
    list()
  }

  /// Enter on an entry: a plain folder is entered, anything with a kind is opened.
  private func choose(_ entry: OpenableFile, app: WorkbenchApp) -> ScreenAction {
    guard let kind = entry.kind else {
      if entry.isFolder { go(to: entry.url) }
      return .handled
    }
    guard FileManager.default.fileExists(atPath: entry.url.path) else {
      error = "\(entry.url.path): no such file any more"
      return .handled
    }
    return open(entry.url, as: kind, app: app)
  }

  /// Enter on a typed path: a plain folder is browsed, a file or folder with a kind is opened.
  private func openTyped(app: WorkbenchApp) -> ScreenAction {
    let typed = path.text.trimmingCharacters(in: .whitespaces)
    let url = PathCompletion.resolve(typed, base: directory).standardizedFileURL
    guard let entry = OpenableFile.at(url) else {
      error = "\(typed): no such file or folder"
      return .handled
    }
    if entry.isFolder, entry.kind == nil {
      mode = .browsing
      go(to: url)
      return .handled
    }
    guard let kind = entry.kind else {
      error =
        "\(entry.name): not a model (.onnx, .safetensors, Hugging Face folder), dataset (.csv, .npz, .txt, "
        + "IDX folder) or pipeline (.yaml, .yml, .json)"
      return .handled
    }
    return open(url, as: kind, app: app)
  }

  private func open(_ url: URL, as kind: OpenKind, app: WorkbenchApp) -> ScreenAction {
    error = nil
    switch kind {
    case .model:
      dataset = PathField(app.state.model?.dataset ?? "")
      mode = .typingDataset(model: url)
      return .handled
    case .dataset:
      guard let model = app.state.model else {
        error = "\(url.lastPathComponent): open a model first; a dataset is what the open model is measured on"
        return .handled
      }
      return perform(app: app, file: url, kind: .dataset) {
        try app.session.open(model: model.path, dataset: url.path, pipeline: nil)
      }
    case .pipeline:
      guard let model = app.state.model?.path ?? WorkspaceSources.model(ofPipeline: url.path) else {
        error = "\(url.lastPathComponent): names no model, and none is open; open a model first"
        return .handled
      }
      return perform(app: app, file: url, kind: .pipeline) {
        try app.session.open(model: model, dataset: app.state.model?.dataset, pipeline: url.path)
      }
    }
  }

  /// A dataset typed as a path that exists is passed as an absolute path; anything else (a
  /// catalog name such as `digits`) as typed.
  static func datasetArgument(_ typed: String, base: URL) -> String {
    let url = PathCompletion.resolve(typed, base: base)
    return FileManager.default.fileExists(atPath: url.path) ? url.standardizedFileURL.path : typed
  }

  /// Opens after warning once about unsaved work; an error stays on the screen naming the file.
  private func perform(app: WorkbenchApp, file: URL, kind: OpenKind, _ body: () throws -> Void) -> ScreenAction {
    let unsaved = app.state.unsaved
    if !unsaved.isEmpty, !warnedUnsaved {
      warnedUnsaved = true
      error = "opening replaces the session: unsaved \(unsaved.joined(separator: ", ")). enter again opens anyway"
      return .handled
    }
    do {
      try body()
    } catch {
      let text = "\(error)"
      // Most errors name the file already; the rest get its name in front.
      self.error =
        text.contains(file.lastPathComponent) ? text : "\(file.lastPathComponent): \(text)"
      return .handled
    }
    app.remember(file.path, kind: kind)
    app.post(.info, "opening \(kind.rawValue) \(Self.abbreviated(file.path))")
    return .close
  }
}
