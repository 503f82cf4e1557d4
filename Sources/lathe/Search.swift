import ArgumentParser
import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheStudyStore
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Search a pipeline's settings: many trials, each a `lathe run` in its own process.",
      discussion:
        "Write ranges in the pipeline's steps (lr: {search: float, low: 0.001, high: 0.1, log: true}) and a "
        + "search: section with objectives and constraints. The study lives in a database in Optuna's schema "
        + "(NAME.study.db, SQLite, beside the pipeline; or --storage postgresql://USER@HOST/DB, shared by --worker "
        + "processes on many machines), which optuna-dashboard and optuna.load_study read; --resume carries on "
        + "where a stopped study was. See docs/search.md.")

    @Argument(help: "Pipeline file with search ranges (.yaml), or a bundled pipeline's name.") var pipeline: String?
    @Option(name: .long, help: "The study's total number of trials (default: the file's, else 20).") var trials: Int?
    @Option(name: .long, help: "Trials run at once, each in its own process (default: cores).") var jobs: Int?
    @Option(name: .long, help: "grid, random, tpe, gp, pso or nsga2 (default: tpe, nsga2 for several objectives).")
    var sampler: String?
    @Option(name: .long, help: "Seed for the sampler (default: the file's, else 0).") var seed: Int?
    @Option(
      name: .long,
      help: ArgumentHelp(
        "Where the study lives: sqlite:///PATH, postgresql://USER@HOST[:PORT]/DB, or a .db or .jsonl file "
          + "(default: NAME.study.db beside the pipeline file, here for a bundled pipeline).",
        valueName: "url"))
    var storage: String?
    @Option(name: .long, help: ArgumentHelp("Same as --storage (a .db or .jsonl file).", visibility: .hidden))
    var study: String?
    @Option(name: .long, help: "The study's name in the database (default: the pipeline's name).") var studyName:
      String?
    @Flag(name: .long, help: "Carry on the study in --storage instead of refusing to touch it.") var resume = false
    @Flag(
      name: .long,
      help: "Join the study (creating it if it is new) as one of many workers sharing --storage; never refuses.")
    var worker = false
    @Option(name: .long, help: "Copy the trials of this .jsonl journal into --storage first (once), then carry on.")
    var importJournal: String?
    @Option(name: .long, help: "Seconds between a running trial's heartbeats; two missed mark it lost.")
    var heartbeat: Double = 10
    @Option(
      name: .long,
      help: "Search a test function instead of a pipeline: branin, hartmann6 or zdt1 (storage and worker tests).")
    var function: String?
    @Option(
      name: .long,
      help: "Early stopping: none, median, successive-halving or hyperband (default: the file's; --function: none).")
    var pruner: String?
    @Option(name: .long, help: "--function: seconds each trial sleeps, standing in for training.")
    var functionSeconds: Double = 0
    @Option(name: .long, help: "Where to write the best pipeline (default: NAME.best.yaml here).") var output: String?
    @Option(name: .long, help: "Run again trials another host has been running this many seconds (its job died).")
    var staleAfter: Double?
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false
    @Flag(name: .long, help: "Compare samplers on Branin, Hartmann-6 and ZDT1 instead of searching.") var benchmark =
      false
    @Option(name: .long, help: "--benchmark: seeds to average over.") var seeds = 10
    @Option(name: .long, help: "--benchmark: samplers to compare.") var samplers = "random,tpe,gp,pso"

    func validate() throws {
      if !benchmark && pipeline == nil && function == nil {
        throw ValidationError("give a pipeline file (or --function, or --benchmark)")
      }
      if let function, TestFunction.named[function] == nil {
        throw ValidationError(
          "unknown function \(function); known: \(TestFunction.named.keys.sorted().joined(separator: ", "))")
      }
      if storage != nil && study != nil { throw ValidationError("give --storage or --study, not both") }
      if let pruner, PrunerKind(rawValue: pruner) == nil {
        throw ValidationError("unknown pruner \(pruner); known: none, median, successive-halving, hyperband")
      }
      if heartbeat <= 0 { throw ValidationError("--heartbeat must be more than 0 seconds") }
      if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
      if let trials, trials < 1 { throw ValidationError("--trials must be at least 1") }
      if let sampler, Samplers.named(sampler) == nil {
        throw ValidationError("unknown sampler \(sampler); known: \(Samplers.names.joined(separator: ", "))")
      }
    }

    func run() throws {
      try reportingErrors {
        if benchmark {
          try runBenchmark()
        } else {
          try runStudy()
        }
      }
    }

    private func runStudy() throws {
      var searchable =
        try function.map(FunctionStudy.searchable)
        ?? SearchablePipeline.read(from: WorkspaceSources.pipelineFile(pipeline!))
      let spec = searchable.spec
      if let trials { searchable.settings.trials = trials }
      if let sampler { searchable.settings.sampler = sampler }
      if let seed { searchable.settings.seed = UInt64(seed) }
      if let studyName { searchable.spec.name = studyName }
      if let pruner = pruner.flatMap(PrunerKind.init(rawValue:)) {
        searchable.settings.pruner = pruner
        if function != nil && pruner != .none {
          searchable.settings.budget = FunctionStudy.budget
        } else if pruner != .none && searchable.settings.budget == nil {
          throw CommandFailure("--pruner \(pruner.rawValue) needs a budget: write one in the file's search: section")
        }
      }
      let settings = searchable.settings
      let name = searchable.spec.name
      let jobs = jobs ?? settings.jobs ?? ProcessInfo.processInfo.activeProcessorCount
      let location = try StudyLocation(storage ?? study ?? defaultStorage(name: name))
      if !resume && !worker && importJournal == nil, try location.holdsStudy(named: name) {
        throw CommandFailure(
          "\(location) already holds a study named \(name): pass --resume to carry it on, --worker to join it, "
            + "or another --storage (or --study-name)")
      }
      // Earlier releases kept the study in NAME.study.jsonl here: say how to carry it on,
      // rather than quietly starting a new study beside it.
      let oldJournal = "\(name).study.jsonl"
      if resume, storage == nil, study == nil, importJournal == nil, FileManager.default.fileExists(atPath: oldJournal),
        try !location.holdsStudy(named: name)
      {
        throw CommandFailure(
          "\(location) holds no study named \(name), but \(oldJournal) here does (an earlier release's journal): "
            + "add --import-journal \(oldJournal) to carry it on in \(location), or --storage \(oldJournal) to keep it")
      }
      let storage = try StudySetup.openStorage(searchable, at: location, heartbeatInterval: heartbeat)
      if let importJournal { try importStudy(from: importJournal, into: storage) }
      let onUpdate: @Sendable (Study, String) -> Void = { study, message in
        guard message.hasSuffix("complete") || message.hasSuffix("failed") || message.contains("stopped") else {
          return
        }
        printError(progressLine(study, message))
      }
      let runner: StudyRunner
      var trialsFolder: URL?
      if let function {
        runner = FunctionStudy.runner(
          function, searchable: searchable, storage: storage, jobs: jobs, seconds: functionSeconds,
          staleAfter: staleAfter, onUpdate: onUpdate)
      } else {
        let setup = StudySetup(
          searchable, storage: storage, trialsFolder: StudySetup.trialsFolder(for: location, studyName: name),
          jobs: jobs, binary: ProcessTrialExecutor.runningBinary(), staleAfter: staleAfter, onUpdate: onUpdate)
        runner = setup.runner
        trialsFolder = setup.trialsFolder
      }
      let before = runner.study(try storage.read())
      for warning in storage.warnings { printError("warning: \(warning)") }
      if !json {
        let objectives = settings.objectives.map(\.description).joined(separator: ", ")
        print(
          "\(spec.name): \(searchable.space.count) dimensions, \(objectives)"
            + (settings.constraints.isEmpty
              ? "" : " with \(settings.constraints.map(\.description).joined(separator: ", "))")
            + "; \(settings.samplerName), \(settings.trials) trials, \(jobs) jobs"
            + (before.finished.isEmpty ? "" : "; resuming after \(before.finished.count) finished"))
        print(
          "study \(name) in \(location)" + (trialsFolder.map { ", trials in \($0.path)/" } ?? "")
            + (location.optunaURL.map { "\n(optuna-dashboard \(StudyLocation.redacted($0)) shows it live)" } ?? ""))
      }
      let interrupt = InterruptWatcher { runner.stop() }
      let started = Date()
      let study = try runner.run()
      interrupt.cancel()
      let report = SearchReport(
        study: study, space: searchable.space, settings: settings, journal: location.description,
        seconds: Date().timeIntervalSince(started), newTrials: study.finished.count - before.finished.count,
        storageSeconds: runner.storageClock.seconds, storageCalls: runner.storageClock.calls)
      var bestPath: String?
      if function == nil, let best = study.paretoFront.first ?? study.best {
        let url = URL(fileURLWithPath: output ?? "\(spec.name).best.yaml")
        try searchable.writePipeline(of: best, named: "\(spec.name)-best", study: location.description, to: url)
        bestPath = url.path
        // Beside the trials too, for whoever opens the study elsewhere (optuna-dashboard).
        var record = JournalEvent(event: .study)
        record.bestPipeline = try String(contentsOf: url, encoding: .utf8)
        try storage.append([record])
      }
      if json {
        try printJSON(report.json(bestPipeline: bestPath))
      } else {
        print(report.text())
        if let bestPath { print("best pipeline written to \(bestPath)") }
      }
    }

    /// `NAME.study.db` beside the pipeline file the user gave; here for a bundled pipeline or a function.
    private func defaultStorage(name: String) -> String {
      let file = "\(name).study.db"
      guard let pipeline, pipeline.contains("/") || pipeline.hasSuffix(".yaml") || pipeline.hasSuffix(".yml") else {
        return file
      }
      return URL(fileURLWithPath: pipeline).deletingLastPathComponent().appendingPathComponent(file).path
    }

    /// Copies a journal's study into an empty storage, as a clean log (one start per trial).
    private func importStudy(from path: String, into storage: any StudyStorage) throws {
      let journal = StudyJournal(url: URL(fileURLWithPath: path))
      guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure("\(path): no such journal") }
      let events = Study.canonicalEvents(try journal.read())
      for warning in journal.warnings { printError("warning: \(warning)") }
      let copied: Bool = try storage.transaction { existing in
        guard existing.isEmpty else { return ([], false) }
        return (events, true)
      }
      if !copied {
        printError("\(storage.location) already holds the study; \(path) was imported before (or is another study)")
      } else {
        printError(
          "imported \(events.filter { $0.event == .start }.count) trials from \(path) into \(storage.location)")
      }
    }

    private func runBenchmark() throws {
      let names = samplers.split(separator: ",").map(String.init)
      for name in names where Samplers.named(name) == nil { throw CommandFailure("unknown sampler \(name)") }
      var results: [SamplerBenchmarkResult] = []
      for (function, budget) in [(TestFunction.branin, trials ?? 200), (TestFunction.hartmann6, trials ?? 300)] {
        if !json {
          print("\(function.name): mean best-so-far over \(seeds) seeds; trials to reach within 1% of the optimum")
        }
        for name in names {
          let sampler = Samplers.named(name)!
          let started = Date()
          // Runs stop once within 1%; their curves hold that value to the end.
          let target = function.minimum + 0.01 * abs(function.minimum)
          let runs = (0..<seeds).map {
            SamplerBenchmark.run(sampler, on: function, trials: budget, seed: UInt64($0), stopAt: target)
          }
          let curves = runs.map { run -> [Double] in
            let curve = SamplerBenchmark.bestSoFar(run)
            return curve + Array(repeating: curve.last!, count: budget - curve.count)
          }
          let mean = (0..<budget).map { i in curves.map { $0[i] }.reduce(0, +) / Double(seeds) }
          let reached = runs.compactMap { SamplerBenchmark.trialsToReach($0, function) }
          let result = SamplerBenchmarkResult(
            function: function.name, sampler: name, trials: budget, seeds: seeds, meanBestSoFar: mean,
            reached: reached.count, medianTrialsToReach: reached.isEmpty ? nil : reached.sorted()[reached.count / 2],
            meanTrialsToReach: reached.isEmpty
              ? nil : Double(reached.reduce(0, +) + (seeds - reached.count) * budget) / Double(seeds),
            seconds: Date().timeIntervalSince(started),
            reachedWithin5Percent: runs.compactMap { SamplerBenchmark.trialsToReach($0, function, tolerance: 0.05) }
              .sorted())
          results.append(result)
          if !json { print(result.line) }
        }
      }
      let zdt = TestFunction.zdt1(dimensions: 6)
      let budget = trials ?? 200
      var fronts: [String: Double] = [:]
      for name in ["random", "nsga2"] {
        let volumes = (0..<seeds).map {
          Pareto.hypervolume(
            SamplerBenchmark.run(Samplers.named(name)!, on: zdt, trials: budget, seed: UInt64($0)),
            reference: [1.1, 11])
        }
        fronts[name] = volumes.reduce(0, +) / Double(seeds)
      }
      if json {
        try printJSON(SamplerBenchmarkReport(functions: results, zdt1Hypervolume: fronts))
      } else {
        print(
          String(
            format: "zdt1 (6 variables), %d trials: mean hypervolume (reference 1.1, 11) nsga2 %.3f, random %.3f",
            budget, fronts["nsga2"]!, fronts["random"]!))
        print("(the ideal front's hypervolume is 11.428)")
      }
    }
  }
}

/// One line per finished trial on stderr.
func progressLine(_ study: Study, _ message: String) -> String {
  let done = study.finished.count
  var line = "[\(done)] \(message)"
  if let number = Int(message.split(separator: " ").dropFirst().first ?? ""),
    let trial = study.trials.first(where: { $0.number == number })
  {
    line += " " + formatMetrics(trial.metrics, seconds: trial.seconds)
    if let error = trial.error { line += " " + error }
  }
  if let best = study.best, let objective = study.objectives.first, let value = best.metrics[objective.metric] {
    line += String(format: "  | best %@ %.6g (trial %d)", objective.metric, value, best.number)
  }
  return line
}

func formatMetrics(_ m: [String: Double], seconds: Double?) -> String {
  var parts: [String] = []
  if let a = m["accuracy"] { parts.append(String(format: "acc %.2f%%", a * 100)) }
  if let s = m["size_bytes"] { parts.append(String(format: "size %.0f", s)) }
  if let l = m["latency_b1"] { parts.append(String(format: "b1 %.1fµs", l)) }
  if let seconds { parts.append(String(format: "%.1fs", seconds)) }
  return parts.joined(separator: "  ")
}

/// Ctrl-C or SIGTERM: stop taking trials (running ones are left to finish or to be taken again on resume).
final class InterruptWatcher: @unchecked Sendable {
  private var sources: [DispatchSourceSignal] = []

  init(_ handler: @escaping @Sendable () -> Void) {
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler {
        printError("stopping: no new trials; running ones finish (again to quit now)")
        handler()
        signal(signalNumber, SIG_DFL)
      }
      source.resume()
      sources.append(source)
    }
  }

  func cancel() { for s in sources { s.cancel() } }
}

struct SamplerBenchmarkResult: Encodable {
  var function: String
  var sampler: String
  var trials: Int
  var seeds: Int
  var meanBestSoFar: [Double]
  var reached: Int
  var medianTrialsToReach: Int?
  /// Trials that never reached count as the whole budget.
  var meanTrialsToReach: Double?
  var seconds: Double
  /// Trials each seed that came within 5% needed (a looser target: Hartmann-6 has a local minimum 3.6% above the global one).
  var reachedWithin5Percent: [Int]

  var line: String {
    let checkpoints = [10, 25, 50, 100, 200, 300].filter { $0 <= trials }
    let curve = checkpoints.map { String(format: "@%d %.4f", $0, meanBestSoFar[$0 - 1]) }.joined(separator: "  ")
    let reach =
      medianTrialsToReach.map { "reached \(reached)/\(seeds), median \($0) trials" } ?? "reached 0/\(seeds)"
    let five = reachedWithin5Percent
    let loose = five.isEmpty ? "5%: 0/\(seeds)" : "5%: \(five.count)/\(seeds), median \(five[five.count / 2])"
    return "  \(sampler.padding(toLength: 7, withPad: " ", startingAt: 0)) \(curve)  1%: \(reach); \(loose)"
      + String(format: "  (%.1fs)", seconds)
  }
}

struct SamplerBenchmarkReport: Encodable {
  var functions: [SamplerBenchmarkResult]
  var zdt1Hypervolume: [String: Double]
}
