import ArgumentParser
import Foundation
import LatheIO
import LatheTensor

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

/// The bundled `samples/` folder, or a clear error when it cannot be found.
func samplesDirectory() throws -> URL {
  guard let url = SamplesDirectory.locate() else {
    throw CommandFailure("cannot find Lathe's samples/ folder; set LATHE_SAMPLES to its path")
  }
  return url
}

/// A bundled dataset name or a path to IDX files or a CSV.
func loadDataset(_ nameOrPath: String) throws -> DatasetSplit {
  try DatasetCatalog.load(nameOrPath, samplesDirectory: try samplesDirectory())
}

/// Prints one JSON object on stdout, keys sorted, for scripts.
func printJSON<T: Encodable>(_ value: T) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  encoder.keyEncodingStrategy = .convertToSnakeCase
  encoder.nonConformingFloatEncodingStrategy = .convertToString(
    positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
  FileHandle.standardOutput.write(try encoder.encode(value))
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
