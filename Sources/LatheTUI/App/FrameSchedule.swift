/// When the run loop draws a frame: after a key, a resize, a new session revision, a change
/// between working and idle, and every `busyFrameSeconds` while work runs (spinners, progress);
/// otherwise never, so an idle workbench costs nothing.
struct FrameSchedule {
  /// While work runs (a step, a search) the screen is redrawn at least this often.
  static let busyFrameSeconds = 0.1

  /// A key arrived since the last frame.
  var keyPressed = true
  private var drawnRevision = -1
  private var drawnSize = (width: -1, height: -1)
  /// Whether the last frame showed work running (the header's spinner).
  private var drawnWorking = false
  private var lastDraw = -Double.infinity

  static func isWorking(_ state: WorkbenchState) -> Bool { state.isBusy || state.search?.isRunning == true }

  /// Whether a frame is due now (`now` in seconds on any steady clock).
  func isDue(_ state: WorkbenchState, size: (width: Int, height: Int), now: Double) -> Bool {
    let working = Self.isWorking(state)
    // The working flag is compared on its own: a session that ends its work without a new
    // revision must still lose its spinner (it stayed, until the next key, after `a`).
    return keyPressed || state.revision != drawnRevision || size != drawnSize || working != drawnWorking
      || (working && now - lastDraw >= Self.busyFrameSeconds)
  }

  mutating func drew(_ state: WorkbenchState, size: (width: Int, height: Int), now: Double) {
    drawnRevision = state.revision
    drawnSize = size
    drawnWorking = Self.isWorking(state)
    lastDraw = now
    keyPressed = false
  }
}
