import Foundation
import LatheTensor

/// The two branches of an ONNX `If` whose condition is computed at run time (silero-vad picks
/// its 16 kHz or 8 kHz network by the sample rate it is fed). Each branch is a list of nodes
/// in execution order, as imported, reading the values it captures from the enclosing graph by
/// name. Only the chosen branch runs. A branch that did not import at the probe sizes is
/// imported when first chosen (`ONNXDeferredBranch`).
public final class ONNXBranches: @unchecked Sendable {
  public struct Branch {
    public var nodes: [Node]
    /// The value each of the `If`'s outputs reads, by name.
    public var outputs: [String]
    /// Set for a branch imported at run time; `nodes` and `outputs` are then empty.
    var deferred: ONNXDeferredBranch? = nil

    /// The branch with its own copy of every layer (and of what a deferred one imported).
    func copied() -> Branch {
      Branch(
        nodes: nodes.map { Node($0.name, $0.layer.copy(), inputs: $0.inputs) }, outputs: outputs,
        deferred: deferred?.copy())
    }
  }

  public internal(set) var thenBranch: Branch
  public internal(set) var elseBranch: Branch
  /// The enclosing graph's values the branches read, in the order the `If` layers take them
  /// after the condition.
  public let captured: [String]
  /// How a model file ties the `If`'s layers together (`ONNXSubgraphFile`): the node name of
  /// the layer that holds the branches (`owner`, the first output), which the others name.
  var group = ""
  var owner = 0

  /// The last run's inputs and outputs: every output of one `If` is its own layer, and they
  /// run one after another on the same inputs; the branch runs once for all of them.
  private var last: (inputs: [Variable], outputs: [Variable])?
  private let lock = NSLock()

  init(then thenBranch: Branch, else elseBranch: Branch, captured: [String]) {
    self.thenBranch = thenBranch
    self.elseBranch = elseBranch
    self.captured = captured
  }

  /// Every output of the branch `condition` picks, for the captured values `inputs`.
  func run(condition: Variable, _ inputs: [Variable], context: inout ForwardContext) -> [Variable] {
    let all = [condition] + inputs
    lock.lock()
    defer { lock.unlock() }
    if let last, last.inputs.count == all.count, zip(last.inputs, all).allSatisfy({ $0 === $1 }) {
      return last.outputs
    }
    let chosen = (condition.value.scalars.first ?? 0) != 0 ? thenBranch : elseBranch
    var values = Dictionary(uniqueKeysWithValues: zip(captured, inputs))
    let branch = chosen.deferred?.branch(for: values) ?? chosen
    let failures = RunFailure.log
    for node in branch.nodes {
      let out = node.layer.forward(node.inputs.map { values[$0]! }, context: &context)
      if let failures, failures.hasFailed {
        // Inside `RunFailure.checking`: the enclosing runner stops after this `If` too.
        failures.name(node: node.name)
        return branch.outputs.map { _ in out }
      }
      values[node.name] = out
    }
    let outputs = branch.outputs.map { values[$0]! }
    last = (all, outputs)
    return outputs
  }

  func copy() -> ONNXBranches {
    let copy = ONNXBranches(then: thenBranch.copied(), else: elseBranch.copied(), captured: captured)
    (copy.group, copy.owner) = (group, owner)
    return copy
  }
}

/// One output of an ONNX `If` with a run-time condition: its first input is the condition,
/// the rest the captured values (`ONNXBranches.captured`). The gradient flows through the
/// branch that ran. In a model file the first output's layer holds the branches (its spec
/// describes their nodes, its tensors are theirs) and the others name it (`ONNXSubgraphFile`).
public final class ONNXIf: Layer {
  /// Set once; a layer read from a file before its branches' owner is linked to them after.
  public internal(set) var branches: ONNXBranches
  public let output: Int

  public init(_ branches: ONNXBranches, output: Int) {
    self.branches = branches
    self.output = output
  }

  public func copy() -> Layer { ONNXIf(branches.copy(), output: output) }

  public var kernelName: String { "if" }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    branches.run(condition: inputs[0], Array(inputs.dropFirst()), context: &context)[output]
  }

  public var spec: LayerSpec { ONNXSubgraphFile.spec(of: self) }
}
