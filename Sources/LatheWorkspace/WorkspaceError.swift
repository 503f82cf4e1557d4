/// A workspace that cannot be put together (no model named, no samples folder, an unknown
/// pipeline), with a one-line reason the CLI prints and the workbench shows on its status line.
public struct WorkspaceError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
