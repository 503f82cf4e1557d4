import ArgumentParser
import Foundation
import LatheTUI

extension Lathe {
  /// `lathe tutorial` lists the guided tutorials; `lathe tutorial NAME` opens the workbench in one.
  struct TutorialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tutorial",
      abstract: "List the guided tutorials, or open the workbench in one.",
      discussion: """
        Tutorials live in samples/tutorials/ as YAML files. Progress is kept in
        $XDG_STATE_HOME/lathe/tutorials.json (default ~/.local/state/lathe/tutorials.json).
        """)

    @Argument(help: "Tutorial to open: its name (first-tour or 1-first-tour) or a .yaml path.") var name: String?
    @Flag(name: .long, help: "Start from the first step rather than where you left off.") var restart = false
    @Option(
      name: .long,
      help: "Colour theme: default, light, high-contrast, colorblind or a .theme file (default: the last used).")
    var theme: String?
    @Flag(name: .long, help: "List the tutorials as one JSON object on stdout (with no NAME).") var json = false

    func validate() throws {
      if json, let name {
        throw ValidationError(
          "--json lists the tutorials; tutorial \(name) opens the workbench, which needs a terminal")
      }
      try validateTheme(theme)
    }

    func run() throws {
      let library = TutorialLibrary.locate()
      guard let name else {
        try list(library)
        return
      }
      try reportingErrors {
        let tutorial = try library.load(name)
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
          throw CommandFailure("the workbench needs a terminal; run lathe tutorial \(name) in one")
        }
        let session: EngineSession
        do {
          session = try EngineSession(model: tutorial.model, dataset: tutorial.dataset, pipeline: tutorial.pipeline)
        } catch {
          throw CommandFailure(
            "tutorial \(tutorial.name) cannot open its files: \(error)\n"
              + "Check \(tutorial.file) (model, dataset, pipeline), or pick another with lathe tutorial")
        }
        try Workbench.run(session: session, theme: theme, tutorial: tutorial, restart: restart)
      }
    }

    private func list(_ library: TutorialLibrary) throws {
      let entries = library.all()
      guard !entries.isEmpty else {
        throw CommandFailure("no tutorials found in \(library.directory?.path ?? "samples/tutorials")")
      }
      // One report for both forms: the state of each tutorial is worked out once.
      let report = TutorialListReport(entries, progress: TutorialProgressStore.standard().load())
      if json { return try printJSON(report) }
      for entry in report.tutorials {
        let name = entry.name.padding(toLength: 24, withPad: " ", startingAt: 0)
        if let error = entry.error {
          print("\(name) cannot be read: \(error)")
          continue
        }
        let state = entry.step.map { "at step \($0) of \(entry.steps ?? 0)" } ?? entry.state ?? "new"
        print("\(name) \(entry.minutes ?? 0) min  \(entry.title ?? "")  [\(state)]")
        print("    \(entry.summary ?? "")")
      }
      print("\nOpen one with: lathe tutorial NAME (--restart to start over)")
    }
  }
}
