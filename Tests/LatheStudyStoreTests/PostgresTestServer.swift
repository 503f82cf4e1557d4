import Foundation
import LatheStudyStore
import XCTest

/// The server the PostgreSQL tests use: `LATHE_TEST_POSTGRES`, which `.ci/run` sets after starting
/// one with `scripts/postgres-server`. Without it those tests skip, saying how to get one.
enum PostgresTestServer {
  static let howToGetOne =
    "run .ci/run, or scripts/postgres-server start DIR and export the URL it prints as LATHE_TEST_POSTGRES"

  static func connect() throws -> PostgresStudyConnection {
    guard let url = ProcessInfo.processInfo.environment["LATHE_TEST_POSTGRES"], !url.isEmpty else {
      throw XCTSkip("LATHE_TEST_POSTGRES is not set, so there is no PostgreSQL server to test against: \(howToGetOne)")
    }
    do {
      return try PostgresStudyConnection(url: url)
    } catch let error as StudyStoreError where error.description.contains("cannot connect") {
      // Only an unreachable server skips: a URL the driver cannot read is the driver's failure.
      throw XCTSkip("the PostgreSQL server at LATHE_TEST_POSTGRES is unreachable (\(error)): \(howToGetOne)")
    }
  }

  /// A table name no other test (or earlier run) uses; the caller drops it.
  static func uniqueTable(_ stem: String) -> String {
    "lathe_test_\(stem)_\(UUID().uuidString.prefix(8).lowercased())"
  }
}

/// Errors collected from several threads.
final class ThreadErrors: @unchecked Sendable {
  private let lock = NSLock()
  private var errors: [any Error] = []

  func record(_ error: any Error) {
    lock.lock()
    errors.append(error)
    lock.unlock()
  }

  var all: [any Error] {
    lock.lock()
    defer { lock.unlock() }
    return errors
  }
}

/// Runs `work(i)` on `count` new threads (not GCD's pool, which may run them one after another) and waits.
func onThreads(_ count: Int, _ work: @escaping @Sendable (Int) throws -> Void) -> [any Error] {
  let errors = ThreadErrors()
  let done = DispatchGroup()
  for i in 0..<count {
    done.enter()
    Thread {
      defer { done.leave() }
      do { try work(i) } catch { errors.record(error) }
    }.start()
  }
  done.wait()
  return errors.all
}
