import Foundation

/// A failure inside a forward pass that only the fed sizes reveal: a graph with symbolic sizes
/// checks its shapes at load against made-up probe sizes, so a Reshape, a Scan or an `If`
/// branch imported on first use can still find at run time that the values it is fed do not
/// fit. `Layer.forward` has no error channel (a throw per node would cost every pass), so a
/// layer reports through `record` and returns zeros; a caller that can throw runs the pass in
/// `checking`, which stops the pass at the failing node and throws the failure.
public struct RunFailure: Error, Equatable, Sendable, CustomStringConvertible {
  /// The model file the pass ran, where the caller knows it.
  public var file: String?
  /// The node that failed, as the graph names it; the innermost runner that knows it sets it.
  public var node: String?
  /// The operator that failed ("Reshape"), as the file names it.
  public var op: String
  /// Why ("cannot reshape [2, 3] to [4]").
  public var reason: String

  public init(file: String? = nil, node: String? = nil, op: String, reason: String) {
    (self.file, self.node, self.op, self.reason) = (file, node, op, reason)
  }

  /// "FILE: node "NODE" (OP): REASON", as `ONNXError` names a node.
  public var description: String {
    let place = node.map { "node \"\($0)\" (\(op))" } ?? op
    return "\(file.map { "\($0): " } ?? "")\(place): \(reason)"
  }

  /// The first failure of a pass run inside `checking`. A pass runs on the caller's thread, but
  /// the log is a class other tasks could reach, so it locks.
  public final class Log: @unchecked Sendable {
    private var first: RunFailure?
    private let lock = NSLock()
    /// Set once a failure is recorded: runners read it after each node to stop the pass there.
    /// A plain read; only the thread running the pass writes it.
    public private(set) var hasFailed = false

    public init() {}

    public var failure: RunFailure? {
      lock.lock()
      defer { lock.unlock() }
      return first
    }

    func record(_ failure: RunFailure) {
      lock.lock()
      defer { lock.unlock() }
      if first == nil { first = failure }
      hasFailed = true
    }

    /// Names the node that failed, unless an inner runner (a branch's, a loop body's) already
    /// named one of its own nodes.
    public func name(node: String) {
      lock.lock()
      defer { lock.unlock() }
      if first != nil, first?.node == nil { first?.node = node }
    }
  }

  /// The log of the `checking` call the pass runs in; nil outside one.
  @TaskLocal public static var log: Log?

  /// Reports a failure of the running layer. Inside `checking` it is kept (the first of a pass)
  /// and the layer goes on to return zeros, which the runner drops when it stops the pass.
  /// Outside one nothing would throw it and a made-up output would pass for the model's, so it
  /// stops the program with the message (fatalError prints it in optimized builds too).
  public static func record(_ op: String, _ reason: String, node: String? = nil, file: String? = nil) {
    let failure = RunFailure(file: file, node: node, op: op, reason: reason)
    guard let log else { fatalError(failure.description) }
    log.record(failure)
  }

  /// `body`'s result, or the first failure a layer recorded while it ran, with `file` set where
  /// the layer did not name one. Nested calls each keep their own failures.
  public static func checking<R>(file: String? = nil, _ body: () -> R) throws(RunFailure) -> R {
    let log = Log()
    let result = $log.withValue(log, operation: body)
    guard var failure = log.failure else { return result }
    if failure.file == nil { failure.file = file }
    throw failure
  }
}
