import Foundation

/// `w`, `W` and `x`: type a path (tab completes it) and save the current model (ONNX when the
/// name ends in `.onnx`, else safetensors), the pipeline (keeping the comments of the file it
/// came from), or export the model as ONNX (int8 layers as QDQ, which ONNX Runtime runs as
/// int8). The session folder is scratch space; this is how work outlives the session.
public final class SaveScreen: Screen {
  public enum Target: Equatable {
    case model
    case pipeline
    /// The model as ONNX, whatever the name: `x`.
    case onnx
  }

  let target: Target
  private(set) var path: PathField
  private var error: String?
  /// Where a relative path starts: the folder the workbench was started in.
  let base: URL

  /// `suggested` fills the field; the user edits it or takes it with enter.
  public init(
    _ target: Target, suggested: String,
    base: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
  ) {
    self.target = target
    self.base = base
    path = PathField(suggested)
  }

  /// A file name in the working folder from what is open: `digits-mlp-prune.safetensors`,
  /// `digits-mlp-prune.onnx`, `pipeline.yaml`.
  static func suggestion(_ target: Target, state: WorkbenchState) -> String {
    let model = state.model.map { URL(fileURLWithPath: $0.name).deletingPathExtension().lastPathComponent }
    let step = state.steps.last { $0.state == .done }?.name
    let stem = [model ?? "model", step].compactMap { $0 }.joined(separator: "-")
    switch target {
    case .model: return stem + ".safetensors"
    case .onnx: return stem + ".onnx"
    case .pipeline: return state.pipelineFile ?? "pipeline.yaml"
    }
  }

  public var title: String {
    switch target {
    case .model: return "save model"
    case .pipeline: return "save pipeline"
    case .onnx: return "export ONNX"
    }
  }

  public var capturesText: Bool { true }
  /// Every other key edits the file name.
  public var bindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", target == .onnx ? "export" : "save")),
      KeyBinding([.tab], hint: ("tab", "complete")), KeyBinding([.escape], hint: ("esc", "cancel")),
    ]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let inner = Panel.draw(canvas, title: title, focused: true, context: context)
    let label: String
    let help: String
    switch target {
    case .model:
      label = "save the current model to:"
      help = "a .onnx name writes ONNX; any other name a Lathe safetensors file"
    case .pipeline:
      label = "save the pipeline to:"
      help = "steps you did not change keep their comments and layout"
    case .onnx:
      label = "export the current model as ONNX to:"
      help = "int8 layers become QDQ (QuantizeLinear/DequantizeLinear), which ONNX Runtime runs as int8"
    }
    inner.text(1, 0, label, context.style(.title))
    path.draw(inner, x: 1, y: 1, width: max(10, inner.width - 2), context: context)
    inner.text(1, 2, help, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    if let folder = app.state.sessionFolder {
      inner.text(
        1, 3, "step models stay in \(folder) until you quit", context.style(.inactive),
        ellipsis: context.glyphs.ellipsis)
    }
    path.drawCandidates(
      inner, x: 1, y: 5, width: inner.width - 2, height: max(0, inner.height - 7), context: context)
    if let error {
      inner.text(1, inner.height - 1, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .escape: return .close
    case .enter:
      let typed = path.text.trimmingCharacters(in: .whitespaces)
      guard !typed.isEmpty else {
        error = "type a file name"
        return .handled
      }
      let file = PathCompletion.resolve(typed, base: base).path
      if target == .onnx, !file.lowercased().hasSuffix(".onnx") {
        error = "an ONNX file's name ends in .onnx (w saves a Lathe safetensors file)"
        return .handled
      }
      if PathCompletion.isFolder(URL(fileURLWithPath: file)) {
        error = "\(typed) is a folder: add a file name (tab lists what is there)"
        return .handled
      }
      do {
        switch target {
        case .model, .onnx: try app.session.saveModel(to: file)
        case .pipeline: try app.session.savePipeline(to: file)
        }
        app.remember(file, kind: target == .pipeline ? .pipeline : .model)
        return .close
      } catch {
        self.error = "\(error)"
      }
    default:
      if path.handle(key, base: base) { error = nil }
    }
    return .handled
  }
}
