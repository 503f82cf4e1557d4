import Foundation

/// Calls `beat` every `interval` seconds on a background queue until stopped: a running trial
/// telling the study's storage its worker is alive.
final class Heartbeat: @unchecked Sendable {
  private let timer: DispatchSourceTimer

  init(every interval: Double, beat: @escaping @Sendable () -> Void) {
    timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
    timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(100))
    timer.setEventHandler(handler: beat)
    timer.resume()
  }

  func stop() { timer.cancel() }

  deinit { timer.cancel() }
}
