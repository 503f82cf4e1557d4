/// What a screen asks the app to do after handling a key.
public enum ScreenAction {
  /// The key was used; redraw.
  case handled
  /// The screen does not use this key; the app tries its global keys (q, ?, t).
  case unhandled
  /// Close this screen and go back to the one below.
  case close
  /// Open another screen on top.
  case open(Screen)
}

/// One full screen of the workbench (home, layer detail, editor...). Screens draw from the
/// session's current state on every frame and keep only UI state (selection, focus, form text).
public protocol Screen: AnyObject {
  /// Shown in the header.
  var title: String { get }
  /// The keys the screen answers to now (for whatever has focus, in whatever mode): the
  /// bottom line's hints are made from it, and the screen handles exactly these keys.
  var bindings: [KeyBinding] { get }
  /// True while the screen takes typed text, so global letter keys (q, t, ?) are not stolen.
  var capturesText: Bool { get }
  func draw(_ canvas: Canvas, app: WorkbenchApp)
  func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction
}

extension Screen {
  public var capturesText: Bool { false }
  /// Key hints for the bottom line, from `bindings`.
  public var hints: [(key: String, label: String)] { bindings.hints }
}
