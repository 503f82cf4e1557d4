import CNcursesw
import Foundation

/// The only code that talks to ncurses. It copies `CellGrid` frames to the screen, writing
/// just the cells that changed since the last frame (SwiftTUI's renderer), and decodes keys.
public final class CursesTerminal {
  public let colorMode: ColorMode
  /// True when the locale is UTF-8, so box drawing, blocks and braille can be used.
  public let isUnicode: Bool
  private let screen: OpaquePointer?
  private let window: UnsafeMutablePointer<WINDOW>
  private var files: [UnsafeMutablePointer<FILE>] = []
  private var previous: [Cell] = []
  private var previousSize = (width: 0, height: 0)
  private var pairs: [PairKey: Int32] = [:]
  private var closed = false

  private struct PairKey: Hashable {
    var foreground: Int32
    var background: Int32
  }

  public enum Failure: Error, CustomStringConvertible {
    case cannotStart(String)
    public var description: String {
      switch self {
      case .cannotStart(let why): return "cannot start the terminal UI: \(why)"
      }
    }
  }

  /// Takes over the real terminal (stdin/stdout). Pair with `close()` on every path.
  public static func interactive(environment: [String: String] = ProcessInfo.processInfo.environment) throws
    -> CursesTerminal
  {
    setlocale(LC_ALL, "")
    guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
      throw Failure.cannotStart("stdin and stdout must be a terminal")
    }
    guard let window = initscr() else { throw Failure.cannotStart("initscr failed (is TERM set?)") }
    return CursesTerminal(screen: nil, window: window, files: [], environment: environment)
  }

  /// A terminal of the given type writing to /dev/null, for tests: frames can be presented and
  /// read back cell by cell with `cell(x:y:)`, no real terminal needed.
  public static func offscreen(
    width: Int, height: Int, type: String = "xterm-256color", environment: [String: String] = [:]
  ) throws -> CursesTerminal {
    setlocale(LC_ALL, "")
    guard let output = fopen("/dev/null", "w"), let input = fopen("/dev/null", "r") else {
      throw Failure.cannotStart("cannot open /dev/null")
    }
    guard let screen = newterm(type, output, input) else {
      fclose(output)
      fclose(input)
      throw Failure.cannotStart("newterm(\(type)) failed")
    }
    set_term(screen)
    resizeterm(Int32(height), Int32(width))
    return CursesTerminal(screen: screen, window: lathe_stdscr(), files: [output, input], environment: environment)
  }

  private init(
    screen: OpaquePointer?, window: UnsafeMutablePointer<WINDOW>, files: [UnsafeMutablePointer<FILE>],
    environment: [String: String]
  ) {
    self.screen = screen
    self.window = window
    self.files = files
    isUnicode = lathe_locale_is_utf8() != 0
    cbreak()
    noecho()
    nonl()
    keypad(window, true)
    curs_set(0)
    // Escape must not wait a second for a possible key sequence.
    set_escdelay(25)
    var mode = ColorMode.none
    if has_colors() {
      start_color()
      use_default_colors()
      mode = ColorMode.detect(colors: Int(lathe_colors()), environment: environment)
    }
    colorMode = mode
    if screen == nil { lathe_enable_mouse() }
  }

  deinit { close() }

  /// Restores the terminal. Safe to call more than once.
  public func close() {
    guard !closed else { return }
    closed = true
    endwin()
    if let screen { delscreen(screen) }
    for file in files { fclose(file) }
  }

  public var size: (width: Int, height: Int) {
    (Int(lathe_window_width(window)), Int(lathe_window_height(window)))
  }

  // MARK: output

  /// Shows a frame; only cells that differ from the previous frame are written.
  public func present(_ grid: CellGrid) {
    let full = previousSize != (grid.width, grid.height) || previous.count != grid.cells.count
    if full {
      werase(window)
      previous = []
    }
    let cells = grid.cells
    for y in 0..<grid.height {
      for x in 0..<grid.width {
        let index = y * grid.width + x
        let cell = cells[index]
        if !full && previous[index] == cell { continue }
        if cell.isContinuation { continue }
        // ncurses would scroll the screen after writing the bottom-right cell on some terminals.
        if y == grid.height - 1 && x == grid.width - 1 && screen == nil { continue }
        let scalar = isUnicode || cell.scalar.isASCII ? cell.scalar : "?"
        lathe_put_cell(window, Int32(y), Int32(x), wchar_t(scalar.value), attributes(cell.style), pair(for: cell.style))
      }
    }
    previous = cells
    previousSize = (grid.width, grid.height)
    wrefresh(window)
  }

  /// Forgets what is on screen, so the next frame is written in full (after a resize).
  public func invalidate() {
    previous = []
    clearok(window, true)
  }

  private func attributes(_ style: Style) -> attr_t {
    var result = lathe_a_normal()
    let attributes = style.attributes
    if attributes.contains(.bold) { result |= lathe_a_bold() }
    if attributes.contains(.dim) { result |= lathe_a_dim() }
    if attributes.contains(.reverse) { result |= lathe_a_reverse() }
    if attributes.contains(.underline) { result |= lathe_a_underline() }
    if attributes.contains(.italic) { result |= lathe_a_italic() }
    return result
  }

  /// The colour pair for a style, allocated on first use. When the terminal runs out of pairs
  /// the table starts over (and the screen is redrawn), which only very colourful themes hit.
  private func pair(for style: Style) -> Int32 {
    guard colorMode != .none else { return 0 }
    let key = PairKey(
      foreground: Int32(colorMode.index(for: style.foreground) ?? -1),
      background: Int32(colorMode.index(for: style.background) ?? -1))
    if key.foreground == -1 && key.background == -1 { return 0 }
    if let existing = pairs[key] { return existing }
    if pairs.count + 1 >= Int(lathe_color_pairs()) {
      pairs = [:]
      previous = []
    }
    let number = Int32(pairs.count + 1)
    init_extended_pair(number, key.foreground, key.background)
    pairs[key] = number
    return number
  }

  /// What is on the ncurses screen at (x, y), for tests.
  public func cell(x: Int, y: Int) -> (scalar: Unicode.Scalar, attributes: attr_t, pair: Int32)? {
    var character: wchar_t = 0
    var attributes: attr_t = 0
    var pair: Int32 = 0
    guard lathe_read_cell(window, Int32(y), Int32(x), &character, &attributes, &pair) != ERR,
      let scalar = Unicode.Scalar(UInt32(character))
    else { return nil }
    return (scalar, attributes & ~lathe_chartext_mask() & ~lathe_color_mask(), pair)
  }

  /// The colour indices a pair was set up with.
  public func colors(ofPair pair: Int32) -> (foreground: Int32, background: Int32) {
    var foreground: Int32 = 0
    var background: Int32 = 0
    extended_pair_content(pair, &foreground, &background)
    return (foreground, background)
  }

  // MARK: input

  /// Waits up to `timeoutMilliseconds` for a key; nil when none came.
  public func readKey(timeoutMilliseconds: Int) -> Key? {
    wtimeout(window, Int32(timeoutMilliseconds))
    var character: wint_t = 0
    let result = wget_wch(window, &character)
    if result == ERR { return nil }
    if result == lathe_key_code_yes() { return decodeSpecial(Int32(character)) }
    return decodeCharacter(UInt32(character))
  }

  private func decodeCharacter(_ value: UInt32) -> Key? {
    switch value {
    case 9: return .tab
    case 10, 13: return .enter
    case 27: return .escape
    case 8, 127: return .backspace
    case 1...26: return .control(Character(Unicode.Scalar(value + 96)!))
    default: return Unicode.Scalar(value).map { .character(Character($0)) }
    }
  }

  private func decodeSpecial(_ code: Int32) -> Key? {
    switch code {
    case KEY_UP: return .up
    case KEY_DOWN: return .down
    case KEY_LEFT: return .left
    case KEY_RIGHT: return .right
    case KEY_PPAGE: return .pageUp
    case KEY_NPAGE: return .pageDown
    case KEY_HOME: return .home
    case KEY_END: return .end
    case KEY_ENTER: return .enter
    case KEY_BTAB: return .backTab
    case KEY_BACKSPACE: return .backspace
    case KEY_DC: return .delete
    case lathe_key_resize():
      invalidate()
      return .resize
    case lathe_key_mouse():
      var y: Int32 = 0
      var x: Int32 = 0
      var button: Int32 = 0
      guard lathe_read_mouse(&y, &x, &button) == OK, button != 0 else { return nil }
      return .mouse(x: Int(x), y: Int(y), button: Int(button))
    default: return nil
    }
  }
}
