import Foundation
import PostgresNIO

/// How `SQLValue`s cross to PostgreSQL and back: the store writes `?` as SQLite does, the server
/// wants `$1…$n`, and PostgresNIO reads results in binary, one decoder per column type.
enum PostgresValues {
  /// `sql` with each `?` outside quotes and comments numbered `$1…$n`, and how many there were.
  /// A `?` inside `'…'` is data and inside `"…"` part of a name, so neither is a parameter.
  static func numberPlaceholders(_ sql: String) -> (sql: String, count: Int) {
    var out = ""
    out.reserveCapacity(sql.utf8.count + 8)
    var count = 0
    let chars = Array(sql)
    var i = 0
    // A doubled quote inside a literal (`'it''s'`) closes and reopens it, which leaves the state right.
    while i < chars.count {
      let c = chars[i]
      let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
      if c == "'" || c == "\"" {
        let end = chars[(i + 1)...].firstIndex(of: c) ?? chars.count - 1
        out.append(contentsOf: chars[i...end])
        i = end + 1
      } else if c == "-" && next == "-" {
        let end = chars[i...].firstIndex(of: "\n") ?? chars.count - 1
        out.append(contentsOf: chars[i...end])
        i = end + 1
      } else if c == "/" && next == "*" {
        var end = i + 2
        while end + 1 < chars.count && !(chars[end] == "*" && chars[end + 1] == "/") { end += 1 }
        end = min(end + 1, chars.count - 1)
        out.append(contentsOf: chars[i...end])
        i = end + 1
      } else if c == "?" {
        count += 1
        out += "$\(count)"
        i += 1
      } else {
        out.append(c)
        i += 1
      }
    }
    return (out, count)
  }

  /// Binary binds typed as their Swift values (int8, float8, text). NULL goes with no type
  /// (OID 0) so the server infers it from where it stands: a NULL typed as text could not go
  /// into an integer or timestamp column.
  static func bindings(_ arguments: [SQLValue]) -> PostgresBindings {
    var binds = PostgresBindings(capacity: arguments.count)
    for argument in arguments {
      switch argument {
      case .null: binds.appendNull()
      case .int(let v): binds.append(v)
      case .double(let v): binds.append(v)
      case .text(let s): binds.append(s)
      }
    }
    return binds
  }

  /// One result cell as a `SQLValue`. `place` names the connection in errors.
  static func value(_ cell: PostgresCell, place: String) throws -> SQLValue {
    guard let bytes = cell.bytes else { return .null }
    let type = cell.dataType
    do {
      switch type {
      case .int2, .int4, .int8:
        return .int(try cell.decode(Int64.self))
      case .float4, .float8:
        return .double(try cell.decode(Double.self))
      case .numeric:
        // EXTRACT(EPOCH …) answers numeric since PostgreSQL 14; Optuna's columns never hold one.
        return .double(try numeric(cell, bytes))
      case .bool:
        // As SQLite stores a boolean, so the store reads one column type from either database.
        return .int(try cell.decode(Bool.self) ? 1 : 0)
      case .void:
        // What a function that returns nothing (pg_sleep, a lock function) answers a SELECT with.
        return .null
      case .text, .varchar, .name, .bpchar, .char, .json, .jsonb, .xml, .unknown, .uuid:
        return .text(try cell.decode(String.self))
      default:
        // Enum types (Optuna's trialstate, studydirection) get OIDs at CREATE TYPE time, from
        // 16384 up; their binary form is their label. Built-in types below that are binary
        // structures (timestamp, bytea…) that would decode as garbage text.
        if type.rawValue >= 16384, let text = String(validating: bytes.readableBytesView, as: UTF8.self) {
          return .text(text)
        }
      }
    } catch {
      // PostgresNIO's errors describe themselves only in their debug form.
      let why = (error as? StudyStoreError)?.description ?? String(reflecting: error)
      throw StudyStoreError("\(place): column \(cell.columnName) of type \(type) could not be read (\(why))")
    }
    throw StudyStoreError(
      "\(place): column \(cell.columnName) has type \(type), which has no SQL value here; "
        + "select it as text (CAST(\(cell.columnName) AS TEXT), or to_char for a timestamp)")
  }

  /// A numeric as a Double, NaN and ±Infinity included (their sign word, which Decimal cannot hold).
  private static func numeric(_ cell: PostgresCell, _ bytes: ByteBuffer) throws -> Double {
    if cell.format == .binary, let sign = bytes.getInteger(at: bytes.readerIndex + 4, as: UInt16.self) {
      switch sign {
      case 0xC000: return .nan
      case 0xD000: return .infinity
      case 0xF000: return -.infinity
      default: break
      }
    }
    let decimal = try cell.decode(Decimal.self)
    guard let double = Double(decimal.description) else {
      throw StudyStoreError("the numeric \(decimal) is not a Double")
    }
    return double
  }
}
