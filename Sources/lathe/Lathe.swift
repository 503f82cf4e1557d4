import ArgumentParser
import Foundation
import LatheTUI
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
    @Option(name: .long, help: "Colour theme: default, light, high-contrast, colorblind or a file.") var theme: String?

    func run() throws {
      // The workbench needs a terminal; piped or scripted, show the commands instead.
      guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
        print(Lathe.helpMessage())
        return
      }
      try reportingErrors {
        // The pipeline's own model unless one is named: a digits pipeline opens the digits model.
        let chosen = model ?? WorkspaceSources.model(ofPipeline: pipeline) ?? "lenet-300-100"
        let session = try EngineSession(model: chosen, dataset: dataset, pipeline: pipeline)
        try Workbench.run(session: session, theme: theme)
      }
    }
  }
}
