import Foundation
import PostgresNIO

/// Words for what went wrong under PostgresNIO. `PSQLError`'s own description is a fixed
/// "Generic description…" (so secrets do not leak to end users); the server's message is in its
/// `serverInfo`, and a socket's failure several wrappers down.
enum PostgresFailure {
  static func reason(_ error: any Error) -> String {
    switch error {
    case let error as PSQLError:
      if let info = error.serverInfo, let message = info[.message] {
        var text = message
        if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
        if let detail = info[.detail] { text += "; \(detail)" }
        if let hint = info[.hint] { text += "; hint: \(hint)" }
        return text
      }
      if let underlying = error.underlying { return reason(underlying) }
      return "\(error.code)"
    case let error as NIOConnectionError:
      if let failure = error.connectionErrors.first { return reason(failure.error) }
      if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(dns)" }
      return "no address for \(error.host)"
    case let error as IOError:
      return String(cString: strerror(error.errnoCode))
    case let error as ChannelError:
      if case .connectTimeout(let limit) = error { return "no answer within \(limit.nanoseconds / 1_000_000_000) s" }
      return "\(error)"
    default:
      return String(describing: error)
    }
  }
}
