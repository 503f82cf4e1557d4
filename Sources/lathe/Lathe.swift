import ArgumentParser

@main
struct Lathe: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lathe", abstract: "A terminal workbench for making neural networks smaller and faster.")
}
