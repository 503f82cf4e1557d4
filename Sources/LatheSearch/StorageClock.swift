import Foundation

/// Wall time a runner spends inside its storage's calls (`transaction`, `read`, `append`,
/// `beat`), and how many it made: what keeping the study costs beside running its trials, for
/// `lathe search`'s report and the storage figures. A transaction's time includes the work
/// done under its lock (reading the study back, the sampler's choice), since other workers
/// wait for all of it. Worker threads and heartbeats add to it at once (hence the lock), each
/// its own time waiting for the storage's lock included: with several jobs the total can pass
/// the run's wall time.
public final class StorageClock: @unchecked Sendable {
  private let lock = NSLock()
  private var nanoseconds: UInt64 = 0
  private var count = 0

  public init() {}

  /// Seconds spent in storage calls so far.
  public var seconds: Double {
    lock.lock()
    defer { lock.unlock() }
    return Double(nanoseconds) / 1e9
  }

  /// Storage calls made so far.
  public var calls: Int {
    lock.lock()
    defer { lock.unlock() }
    return count
  }

  /// Runs one storage call, adding its wall time (failed calls count too: they took the time).
  func time<R>(_ call: () throws -> R) rethrows -> R {
    let start = DispatchTime.now().uptimeNanoseconds
    defer {
      let spent = DispatchTime.now().uptimeNanoseconds - start
      lock.lock()
      nanoseconds += spent
      count += 1
      lock.unlock()
    }
    return try call()
  }
}
