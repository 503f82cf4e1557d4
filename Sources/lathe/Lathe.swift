import ArgumentParser

@main
struct Lathe: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lathe",
    abstract: "A terminal workbench for making neural networks smaller and faster.",
    discussion: """
      Train, evaluate, inspect and benchmark models on Lathe's own tensor engine.
      Models are safetensors files; datasets are bundled names (mnist-5k, digits), MNIST IDX folders or CSV files.
      """,
    subcommands: [Train.self, Eval.self, Inspect.self, Run.self, Bench.self]
  )
}
