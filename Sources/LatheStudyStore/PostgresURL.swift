import Foundation

/// Where a PostgreSQL study lives, read from `postgresql://user[:password]@host[:port]/database`
/// (or `postgres://…`), the form Optuna's `--storage` takes, so one string names a study for both.
struct PostgresURL: Equatable {
  var user: String
  var password: String?
  var host: String
  var port: Int
  var database: String

  /// The URL without its password: what messages and `SQLConnection.location` show.
  var location: String {
    let shownHost = host.contains(":") ? "[\(host)]" : host
    return "postgresql://\(user)@\(shownHost):\(port)/\(database)"
  }

  init(user: String, password: String?, host: String, port: Int, database: String) {
    self.user = user
    self.password = password
    self.host = host
    self.port = port
    self.database = database
  }

  /// `environment` is a parameter so tests need not change the process's: the password may come
  /// from `PGPASSWORD` and the user from `USER`, as libpq takes them.
  init(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    func bad(_ expected: String) -> StudyStoreError {
      StudyStoreError(
        "\(Self.redacted(url)): not a PostgreSQL URL: \(expected) "
          + "(expected postgresql://user[:password]@host[:port]/database)")
    }
    guard let schemeEnd = url.range(of: "://") else { throw bad("no scheme") }
    let scheme = url[..<schemeEnd.lowerBound].lowercased()
    guard scheme == "postgresql" || scheme == "postgres" else {
      throw bad("the scheme is \"\(scheme)\", not postgresql or postgres")
    }
    var rest = url[schemeEnd.upperBound...]
    if let query = rest.firstIndex(of: "?") {
      // sslmode=disable is what a loopback server needs and all this driver does; anything else
      // would silently mean something other than what the URL asks for.
      let parameters = rest[rest.index(after: query)...]
      guard parameters == "sslmode=disable" else {
        throw bad("parameters \"\(parameters)\" are not supported (only sslmode=disable)")
      }
      rest = rest[..<query]
    }
    guard let slash = rest.firstIndex(of: "/") else { throw bad("no /database after the host") }
    let authority = rest[..<slash]
    guard let database = Self.decode(rest[rest.index(after: slash)...]), !database.isEmpty else {
      throw bad("no database name after the host")
    }
    self.database = database

    var hostPort = authority
    var userInfo: Substring? = nil
    if let at = authority.lastIndex(of: "@") {
      userInfo = authority[..<at]
      hostPort = authority[authority.index(after: at)...]
    }
    if let userInfo, let colon = userInfo.firstIndex(of: ":") {
      guard let user = Self.decode(userInfo[..<colon]),
        let password = Self.decode(userInfo[userInfo.index(after: colon)...])
      else { throw bad("the user or password has a bad %-escape") }
      self.user = user
      self.password = password
    } else if let userInfo {
      guard let user = Self.decode(userInfo) else { throw bad("the user has a bad %-escape") }
      self.user = user
      self.password = nil
    } else {
      guard let user = environment["USER"], !user.isEmpty else {
        throw bad("no user, and USER is not set")
      }
      self.user = user
      self.password = nil
    }
    if user.isEmpty { throw bad("the user is empty") }
    if password == nil { password = environment["PGPASSWORD"] }

    let (host, port) = try Self.splitHostPort(hostPort, bad)
    self.host = host
    self.port = port
  }

  /// `host`, `host:port`, `[v6]` or `[v6]:port`; 5432 when the port is left out.
  private static func splitHostPort(_ text: Substring, _ bad: (String) -> StudyStoreError) throws -> (String, Int) {
    var host: Substring
    var portText: Substring? = nil
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { throw bad("an IPv6 host without its closing ]") }
      host = text[text.index(after: text.startIndex)..<close]
      let after = text[text.index(after: close)...]
      if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad("text after the ]") }
    } else if let colon = text.lastIndex(of: ":") {
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    } else {
      host = text
    }
    guard let decodedHost = decode(host), !decodedHost.isEmpty else { throw bad("no host") }
    guard let portText else { return (decodedHost, 5432) }
    guard let port = Int(portText), (1...65535).contains(port) else {
      throw bad("the port \"\(portText)\" is not a number from 1 to 65535")
    }
    return (decodedHost, port)
  }

  private static func decode(_ text: Substring) -> String? { String(text).removingPercentEncoding }

  /// `url` with any password replaced by `***`, for messages about a URL that did not parse.
  static func redacted(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return url }
    let afterScheme = url[schemeEnd.upperBound...]
    let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
    let authority = afterScheme[..<authorityEnd]
    guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else {
      return url
    }
    return String(url[..<authority.index(after: colon)]) + "***" + String(url[at...])
  }
}
