import CNcursesw
import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM into a polite request the run loop sees within one tick,
/// so the terminal is restored by the normal exit path. A second signal while the first is
/// still pending means the loop (or the shutdown after it) is stuck: restore the terminal at
/// once and exit.
/// Crashes (SIGSEGV, traps) are covered by the C handlers in the shim.
final class SignalWatcher: @unchecked Sendable {
  private let lock = NSLock()
  private var received: Int32 = 0
  private var sources: [DispatchSourceSignal] = []
  private let queue = DispatchQueue(label: "lathe.signals")

  init(signals: [Int32] = [SIGINT, SIGTERM]) {
    for number in signals {
      // The default action would kill us before the source runs; ignoring hands it to Dispatch.
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler { [weak self] in self?.receive(number) }
      source.resume()
      sources.append(source)
    }
  }

  private func receive(_ number: Int32) {
    lock.lock()
    let first = received == 0
    if first { received = number }
    lock.unlock()
    if !first {
      // _exit, not exit: exit runs atexit handlers and tears down globals while the engine's
      // threads may still be using them, which is how quitting mid-step used to segfault.
      endwin()
      _exit(128 + number)
    }
  }

  /// The signal that asked us to stop, or nil.
  var requested: Int32? {
    lock.lock()
    defer { lock.unlock() }
    return received == 0 ? nil : received
  }

  /// Cancels the sources and gives the signals their default actions back.
  func stop() {
    for source in sources { source.cancel() }
    sources = []
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}
