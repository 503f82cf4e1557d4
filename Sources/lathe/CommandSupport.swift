import ArgumentParser
import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace

/// A failure the user can act on: printed as one line on stderr, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Runs `body`, turning any error into a one-line message and a non-zero exit, never a trap.
func reportingErrors<R>(_ body: () throws -> R) throws -> R {
  do {
    return try body()
  } catch let error as CommandFailure {
    throw error
  } catch let error as ExitCode {
    throw error
  } catch {
    throw CommandFailure("\(error)")
  }
}

extension CommandFailure: LocalizedError {
  var errorDescription: String? { description }
}

/// Prints one JSON object on stdout, keys sorted, for scripts.
func printJSON<T: Encodable>(_ value: T) throws {
  FileHandle.standardOutput.write(try LatheJSON.encoder.encode(value))
  FileHandle.standardOutput.write(Data("\n".utf8))
}

/// True when stderr is a terminal (progress bars) rather than a pipe or file (plain lines).
var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Peak resident memory of this process so far, in bytes.
func peakResidentBytes() -> Int {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return usage.ru_maxrss * 1024
}
