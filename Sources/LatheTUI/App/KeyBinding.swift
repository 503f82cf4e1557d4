/// One key a screen answers to, as data (lazygit's `GetKeybindings`): which keys trigger it,
/// how the hint bar and the help overlay show it, and, where the screen dispatches from its
/// list, what it does. The hint bar and `?` are generated from these lists, and
/// `KeyBindingTests` checks each screen handles exactly the keys its list names.
public struct KeyBinding {
  /// A key as shown to the user, with what it does.
  public struct Label: Equatable, Sendable {
    public var key: String
    public var text: String
  }

  /// The keys that trigger it. A mouse key matches that button anywhere on the screen.
  public var keys: [Key]
  /// Shown in the bottom line while the binding applies; nil keeps it out (help only).
  public var hint: Label?
  /// Shown by `?`; nil when another binding's entry covers it ("a / d" for add and delete).
  public var help: Label?
  /// What the key does, for screens that dispatch from their list; nil when the screen's own
  /// `handle` (or the app's keys, for a hint such as `t theme`) carries it out.
  let action: ((Key, WorkbenchApp) -> ScreenAction)?

  init(
    _ keys: [Key], hint: (key: String, text: String)? = nil, help: (key: String, text: String)? = nil,
    action: ((Key, WorkbenchApp) -> ScreenAction)? = nil
  ) {
    self.keys = keys
    self.hint = hint.map { Label(key: $0.key, text: $0.text) }
    self.help = help.map { Label(key: $0.key, text: $0.text) }
    self.action = action
  }

  public func matches(_ key: Key) -> Bool {
    keys.contains { bound in
      if case .mouse(_, _, let button) = bound, case .mouse(_, _, let pressed) = key { return button == pressed }
      return bound == key
    }
  }

  /// The keys every list moves with (`Key.verticalStep`): arrows, j/k, page keys, the wheel.
  static let verticalKeys: [Key] = [
    .up, .down, .character("j"), .character("k"), .pageUp, .pageDown, .mouse(x: 0, y: 0, button: 4),
    .mouse(x: 0, y: 0, button: 5),
  ]
}

extension Array where Element == KeyBinding {
  /// The first binding for `key` that has an action, run; nil when none has.
  func dispatch(_ key: Key, app: WorkbenchApp) -> ScreenAction? {
    guard let binding = first(where: { $0.action != nil && $0.matches(key) }) else { return nil }
    return binding.action?(key, app)
  }

  /// The bottom line's hints, in list order.
  var hints: [(key: String, label: String)] { compactMap { $0.hint.map { ($0.key, $0.text) } } }
}
