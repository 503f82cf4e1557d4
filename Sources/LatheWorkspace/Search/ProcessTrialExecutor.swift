import Foundation
import LatheCompress
import LatheIO
import LatheSearch

/// Runs each trial as its own `lathe run TRIAL.yaml --json` process: a trial that crashes or is
/// killed takes nothing else down, and the same command is what a cluster job would run.
/// Each trial's pipeline, log and final model stay in `directory/trial-NNNN/`.
public struct ProcessTrialExecutor: TrialExecutor {
  public let pipeline: SearchablePipeline
  /// The `lathe` binary (the running one, found through /proc/self/exe).
  public let binary: URL
  public let directory: URL
  public let latencySeconds: Double
  /// Threads per trial (LK_THREADS, the size of its thread pool), so parallel trials share the
  /// cores instead of fighting.
  public let threads: Int?
  /// The worker processes running now, so that a study can be stopped at once.
  private let running = RunningProcesses()

  public init(pipeline: SearchablePipeline, binary: URL, directory: URL, latencySeconds: Double, threads: Int? = nil) {
    self.pipeline = pipeline
    self.binary = binary
    self.directory = directory
    self.latencySeconds = latencySeconds
    self.threads = threads
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  public static func folderName(_ number: Int) -> String { String(format: "trial-%04d", number) }

  /// The model a finished trial left (its last step's, at its largest budget), to open in the workbench.
  public static func finalModel(directory: URL, trial: Int) -> URL? {
    let folder = directory.appendingPathComponent(folderName(trial))
    let fm = FileManager.default
    let candidates = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("models") }
    // "models" (no budget) or "models-bN": the largest budget last.
    let ordered = candidates.sorted {
      (Int($0.dropFirst("models-b".count)) ?? .max) < (Int($1.dropFirst("models-b".count)) ?? .max)
    }
    guard let models = ordered.last.map({ folder.appendingPathComponent($0) }),
      let file = (try? fm.contentsOfDirectory(atPath: models.path))?.filter({ $0.hasSuffix(".safetensors") }).max()
    else { return nil }
    return models.appendingPathComponent(file)
  }

  /// The concrete pipeline of a trial at a budget, as `lathe run` reads it.
  public func pipelineFile(_ request: TrialRequest) -> URL {
    let folder = directory.appendingPathComponent(Self.folderName(request.number))
    return folder.appendingPathComponent(request.budget.map { "pipeline-b\($0).yaml" } ?? "pipeline.yaml")
  }

  public func run(_ request: TrialRequest) throws -> [String: Double] {
    let fm = FileManager.default
    let folder = directory.appendingPathComponent(Self.folderName(request.number))
    let models = folder.appendingPathComponent(request.budget.map { "models-b\($0)" } ?? "models")
    try AtomicFile.createFolder(folder)
    let file = pipelineFile(request)
    let spec = pipeline.pipeline(
      for: request.values, budget: request.budget, name: "\(pipeline.spec.name)-\(Self.folderName(request.number))")
    try AtomicFile.write(spec.yaml(), to: file)
    let log = folder.appendingPathComponent(request.budget.map { "run-b\($0).log" } ?? "run.log")
    _ = fm.createFile(atPath: log.path, contents: nil)
    let process = Process()
    var arguments = [
      "run", file.path, "--json", "--output-dir", models.path, "--latency-seconds", "\(latencySeconds)",
    ]
    // Children die with the study: a killed `lathe search` leaves no trials running unseen.
    let setpriv = "/usr/bin/setpriv"
    if fm.isExecutableFile(atPath: setpriv) {
      process.executableURL = URL(fileURLWithPath: setpriv)
      arguments = ["--pdeathsig", "KILL", "--", binary.path] + arguments
    } else {
      process.executableURL = binary
    }
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    if let threads, environment["LK_THREADS"] == nil { environment["LK_THREADS"] = "\(threads)" }
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: log)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    running.insert(process)
    defer { running.remove(process) }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      let why =
        process.terminationReason == .uncaughtSignal
        ? "killed by signal \(process.terminationStatus)" : "exit status \(process.terminationStatus)"
      let lastLine =
        (try? String(contentsOf: log, encoding: .utf8))?
        .split(separator: "\n").last.map(String.init) ?? ""
      throw Failure(description: "lathe run: \(why)\(lastLine.isEmpty ? "" : ": \(lastLine)")")
    }
    let metrics = try Self.metrics(fromRunJSON: data)
    // Keep the final model (to load in the workbench), not every step's.
    if let files = try? fm.contentsOfDirectory(atPath: models.path).sorted(), files.count > 1 {
      for name in files.dropLast() { try? fm.removeItem(at: models.appendingPathComponent(name)) }
    }
    return metrics
  }

  /// Sends SIGTERM to every trial process running now; their trials end as failed.
  public func terminateRunning() { running.terminateAll() }

  /// The final step's metrics from `lathe run --json` output, under the names objectives use.
  public static func metrics(fromRunJSON data: Data) throws -> [String: Double] {
    let result: RunResult
    do {
      result = try LatheJSON.decoder.decode(RunResult.self, from: data)
    } catch {
      throw Failure(
        description: "lathe run printed no result (\(error)): \(String(decoding: data.prefix(200), as: UTF8.self))")
    }
    guard !result.steps.isEmpty else { throw Failure(description: "lathe run printed no steps") }
    return result.objectiveMetrics
  }
}

/// The set of worker processes alive now, shared by the executor's copies.
final class RunningProcesses: @unchecked Sendable {
  private let lock = NSLock()
  private var processes: [ObjectIdentifier: Process] = [:]

  func insert(_ process: Process) { lock.withLock { processes[ObjectIdentifier(process)] = process } }
  func remove(_ process: Process) { _ = lock.withLock { processes.removeValue(forKey: ObjectIdentifier(process)) } }
  func terminateAll() {
    lock.withLock { for process in processes.values where process.isRunning { process.terminate() } }
  }
}
