import ArgumentParser
import Foundation
import LatheTUI
import LatheTensor
import LatheWorkspace

@main
struct Lathe: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lathe",
    abstract: "A terminal workbench for making neural networks smaller and faster.",
    discussion: """
      With no subcommand, opens the workbench on a terminal (the bundled lenet-300-100, mnist-5k and the
      deep-compression pipeline unless told otherwise: lathe --model FILE --dataset NAME --pipeline FILE).
      Models are safetensors or ONNX files; datasets are bundled names (mnist-5k, digits), MNIST IDX folders or
      CSV files; pipelines are YAML files.
      """,
    version: LatheVersion.string,
    subcommands: [
      OpenWorkbench.self, TutorialCommand.self, Train.self, Eval.self, Inspect.self, Run.self, Search.self,
      Bench.self, Export.self,
      ONNXTest.self,
    ],
    defaultSubcommand: OpenWorkbench.self
  )
}

extension Lathe {
  /// The ncurses workbench; the default subcommand, so `lathe --model X` opens it.
  struct OpenWorkbench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "workbench", abstract: "Open the workbench (the default when no subcommand is given).")

    @Option(name: .long, help: "Model to open (sample name or path; default: the pipeline's model).")
    var model: String?
    @Option(name: .long, help: "Dataset name or path (default: the model's).") var dataset: String?
    @Option(name: .long, help: "Pipeline to open (bundled name or path).") var pipeline = "deep-compression"
    @Option(
      name: .long,
      help: "Colour theme: default, light, high-contrast, colorblind or a .theme file (default: the last used).")
    var theme: String?
    @Option(
      name: .long,
      help: ArgumentHelp(
        "Watch a study that lathe search workers run, read-only: sqlite:///PATH, postgresql://USER@HOST/DATABASE, "
          + "or a .db or .jsonl path.",
        discussion:
          "Opens on the Search screen, reading the study about once a second; --pipeline names the search "
          + "pipeline that made it."))
    var study: String?
    @Option(name: .long, help: "The watched study's name in its database (default: the pipeline's name).")
    var studyName: String?

    func validate() throws {
      if studyName != nil && study == nil { throw ValidationError("--study-name names a study of --study; give both") }
      try validateTheme(theme)
    }

    func run() throws {
      // The workbench needs a terminal. A bare `lathe` piped or scripted shows the commands;
      // options for the workbench there are a mistake the script should hear about.
      guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
        guard CommandLine.arguments.count > 1 else {
          print(Lathe.helpMessage())
          return
        }
        let which = isatty(STDIN_FILENO) == 0 ? "stdin" : "stdout"
        throw CommandFailure(
          "the workbench needs a terminal, and \(which) is not one; in scripts use lathe run, eval, inspect "
            + "or search (lathe --help lists them)")
      }
      try reportingErrors {
        // The pipeline's own model unless one is named: a digits pipeline opens the digits model.
        let chosen = model ?? WorkspaceSources.model(ofPipeline: pipeline) ?? "lenet-300-100"
        guard let study else {
          let session = try EngineSession(model: chosen, dataset: dataset, pipeline: pipeline)
          try Workbench.run(session: session, theme: theme)
          return
        }
        // A search pipeline has ranges where values go: the workbench opens its model alone,
        // and a trial opened from the Search screen brings the pipeline with its values.
        let session = try EngineSession(model: chosen, dataset: dataset, pipeline: nil)
        do {
          try session.watchStudy(study, studyName: studyName, pipeline: pipeline)
        } catch {
          session.shutdown(keepingFolder: false)
          throw error
        }
        try Workbench.run(session: session, theme: theme, openingSearch: true)
      }
    }
  }
}

/// `--theme NAME` must name a theme there is: refused before anything loads, listing the themes.
func validateTheme(_ theme: String?) throws {
  guard let theme else { return }
  do {
    try ThemeLibrary.locate().check(theme)
  } catch {
    throw ValidationError("--theme: \(error)")
  }
}
