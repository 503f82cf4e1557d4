import Foundation
import LatheIO
import LatheTensor

/// What can go wrong reading, running or writing an ONNX file. Every message names the file
/// and, where one is to blame, the node and its operator, so a user can find the spot in Netron.
public enum ONNXError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be read, or is not a protobuf-encoded ONNX model.
  case unreadable(file: String, reason: String)
  /// A model-level field is missing or wrong (graph, opset, input, initializer).
  case invalidModel(file: String, reason: String)
  /// The model imports an opset outside the range Lathe implements.
  case unsupportedOpset(file: String, domain: String, version: Int, supported: ClosedRange<Int>)
  /// Nodes whose operators Lathe does not implement: every one of them, not only the first.
  case unsupportedOps(file: String, ops: [(op: String, nodes: [String])])
  /// A node that Lathe implements but not with these attributes or inputs.
  case invalidNode(file: String, node: String, op: String, reason: String)
  /// A model Lathe cannot write as ONNX.
  case unexportable(node: String, op: String, reason: String)
  /// The output file could not be written.
  case unwritable(file: String, reason: String)
  /// A run stopped at a node that the fed sizes do not fit (see `RunFailure`).
  case runFailed(RunFailure)

  /// The message on one line: names from the file may hold newlines or other control
  /// characters, which are shown escaped.
  public var description: String { OneLine.escaping(message) }

  private var message: String {
    switch self {
    case .unreadable(let file, let reason): return "\(file): cannot read ONNX model: \(reason)"
    case .invalidModel(let file, let reason): return "\(file): invalid ONNX model: \(reason)"
    case .unsupportedOpset(let file, let domain, let version, let supported):
      let name = domain.isEmpty ? "ai.onnx" : domain
      return "\(file): opset \(name) version \(version) is not supported "
        + "(supported: \(supported.lowerBound) to \(supported.upperBound))"
    case .unsupportedOps(let file, let ops):
      let list = ops.map { "\($0.op) (nodes: \($0.nodes.joined(separator: ", ")))" }
      return "\(file): unsupported ONNX operators: \(list.joined(separator: "; "))"
    case .invalidNode(let file, let node, let op, let reason):
      return "\(file): node \"\(node)\" (\(op)): \(reason)"
    case .unexportable(let node, let op, let reason):
      return "cannot export node \"\(node)\" (\(op)) to ONNX: \(reason)"
    case .unwritable(let file, let reason): return "\(file): cannot write: \(reason)"
    case .runFailed(let failure): return failure.description
    }
  }

  public static func == (a: ONNXError, b: ONNXError) -> Bool { a.description == b.description }
}

/// An error raised while converting one node, before the importer knows the file and node name.
struct NodeError: Error {
  var reason: String
  init(_ reason: String) { self.reason = reason }
}
