import Foundation

/// `w` and `W`: type a path and save the current model (ONNX when the name ends in `.onnx`,
/// else safetensors) or the pipeline (keeping the comments of the file it came from). The
/// session folder is scratch space; this is how work outlives the session.
public final class SaveScreen: Screen {
  public enum Target: Equatable {
    case model
    case pipeline
  }

  let target: Target
  private var path: TextField
  private var error: String?

  /// `suggested` fills the field; the user edits it or takes it with enter.
  public init(_ target: Target, suggested: String) {
    self.target = target
    path = TextField(suggested)
  }

  /// A file name in the working folder from what is open: `digits-mlp-prune.safetensors`, `pipeline.yaml`.
  static func suggestion(_ target: Target, state: WorkbenchState) -> String {
    switch target {
    case .model:
      let model = state.model.map { URL(fileURLWithPath: $0.name).deletingPathExtension().lastPathComponent }
      let step = state.steps.last { $0.state == .done }?.name
      return ([model ?? "model", step].compactMap { $0 }.joined(separator: "-")) + ".safetensors"
    case .pipeline:
      return state.pipelineFile ?? "pipeline.yaml"
    }
  }

  public var title: String { target == .model ? "save model" : "save pipeline" }
  public var capturesText: Bool { true }
  /// Every other key edits the file name.
  public var bindings: [KeyBinding] {
    [KeyBinding([.enter], hint: ("enter", "save")), KeyBinding([.escape], hint: ("esc", "cancel"))]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let inner = Panel.draw(canvas, title: title, focused: true, context: context)
    let label = target == .model ? "save the current model to:" : "save the pipeline to:"
    inner.text(1, 0, label, context.style(.title))
    path.draw(inner, x: 1, y: 1, width: max(10, inner.width - 2), context: context)
    let help =
      target == .model
      ? "a .onnx name writes ONNX; any other name a Lathe safetensors file"
      : "steps you did not change keep their comments and layout"
    inner.text(1, 2, help, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    if let folder = app.state.sessionFolder {
      inner.text(
        1, 4, "step models stay in \(folder) until you quit", context.style(.inactive),
        ellipsis: context.glyphs.ellipsis)
    }
    if let error {
      inner.text(1, inner.height - 1, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .escape: return .close
    case .enter:
      let typed = (path.text.trimmingCharacters(in: .whitespaces) as NSString).expandingTildeInPath
      guard !typed.isEmpty else {
        error = "type a file name"
        return .handled
      }
      do {
        switch target {
        case .model: try app.session.saveModel(to: typed)
        case .pipeline: try app.session.savePipeline(to: typed)
        }
        return .close
      } catch {
        self.error = "\(error)"
      }
    default:
      if path.handle(key) { error = nil }
    }
    return .handled
  }
}
