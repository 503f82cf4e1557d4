import Foundation
import LatheTensor

// Normalisation (LayerNormalization, RMSNormalization, InstanceNormalization,
// GroupNormalization) and rearrangement (DepthToSpace, SpaceToDepth, Tile) operators.

extension ONNXConverters {
  static func convertNormalization(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "LayerNormalization", "RMSNormalization": try layerNormalization(n)
    case "InstanceNormalization", "GroupNormalization": try channelNormalization(n)
    case "DepthToSpace", "SpaceToDepth":
      let x = try n.required(0, "input")
      let b = try n.attributes.int("blocksize", 0)
      guard b > 0 else { throw NodeError("attribute \"blocksize\" should be a positive integer, not \(b)") }
      // SpaceToDepth has DCR order only until opset 28 adds the mode; older files lack the attribute.
      let mode = try n.attributes.string("mode", "DCR")
      guard mode == "DCR" || mode == "CRD" else { throw NodeError("mode \"\(mode)\" is not DCR or CRD") }
      let kind: ONNXRearrange.Kind =
        n.node.opType == "DepthToSpace"
        ? .depthToSpace(blockSize: b, columnRowDepth: mode == "CRD")
        : .spaceToDepth(blockSize: b, columnRowDepth: mode == "CRD")
      n.define(0, try n.movement(ONNXRearrange(kind), x))
    case "Tile":
      let x = try n.required(0, "input")
      let repeats = try n.requiredConstant(1, "repeats").ints
      let rank = n.shape(x).count
      guard repeats.count == rank, repeats.allSatisfy({ $0 >= 0 }) else {
        throw NodeError("repeats \(repeats) should be \(rank) non-negative counts, one per axis of \(n.shape(x))")
      }
      n.define(0, try n.movement(ONNXRearrange(.tile(repeats: repeats)), x))
    default: throw NodeError("operator is not supported")
    }
  }

  /// Lathe computes in fp32: a stash type other than float would ask for other statistics.
  private static func checkStashType(_ n: NodeConversion) throws(NodeError) {
    let stash = try n.attributes.int("stash_type", 1)
    guard stash == 1 else { throw NodeError("stash_type \(stash) is not 1 (float); Lathe normalises in fp32") }
  }

  private static func epsilon(_ n: NodeConversion) throws(NodeError) -> Float {
    let epsilon = try n.attributes.float("epsilon", 1e-5)
    guard epsilon >= 0, epsilon.isFinite else { throw NodeError("epsilon \(epsilon) should be finite and >= 0") }
    return epsilon
  }

  /// LayerNormalization (opset 17) and RMSNormalization (opset 23): statistics over the axes
  /// from `axis` on; Scale (and LayerNormalization's optional B) broadcast against those axes.
  private static func layerNormalization(_ n: NodeConversion) throws(NodeError) {
    let rms = n.node.opType == "RMSNormalization"
    let x = try n.required(0, "X")
    let shape = n.shape(x)
    let rawAxis = try n.attributes.int("axis", -1)
    guard let axis = ONNXShapes.axis(rawAxis, rank: shape.count) else {
      throw NodeError("axis \(rawAxis) is out of range for input \(shape)")
    }
    try checkStashType(n)
    let scale = try n.requiredConstant(1, "scale").floats
    let bias = rms ? nil : try n.constant(2, "B")?.floats
    let normalized = Array(shape[axis...])
    for w in [scale, bias].compactMap({ $0 }) where broadcastShape(w.shape, normalized) != normalized {
      throw NodeError("scale or B \(w.shape) does not broadcast to the normalised axes \(normalized)")
    }
    let layer = ONNXNormalization(
      rms ? .rms : .layer, axis: axis, epsilon: try epsilon(n), scale: scale, bias: bias)
    n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
    // Mean and InvStdDev (LayerNormalization only): their own layers, without weights.
    for (i, output) in [(1, ONNXNormalization.Output.mean), (2, .invStdDev)] where i < n.node.output.count {
      guard !rms else { throw NodeError("RMSNormalization has one output, the node names \(n.node.output.count)") }
      guard !n.node.output[i].isEmpty else { continue }
      let statistics = ONNXNormalization(
        .layer, output: output, axis: axis, epsilon: layer.epsilon, scale: nil, bias: nil)
      n.define(i, try n.emit(statistics, [x], hints: [n.hint(0)], suffix: "_\(output.rawValue)"))
    }
  }

  /// InstanceNormalization, and GroupNormalization, whose scale and bias are per group before
  /// opset 21 (spread here over each group's channels, the same function) and per channel from 21.
  private static func channelNormalization(_ n: NodeConversion) throws(NodeError) {
    let group = n.node.opType == "GroupNormalization"
    let x = try n.required(0, "input")
    let shape = n.shape(x)
    guard shape.count >= (group ? 2 : 3) else { throw NodeError("input \(shape) has no channel and spatial axes") }
    let channels = shape[1]
    var groups = 0
    if group {
      groups = try n.attributes.int("num_groups", 0)
      guard groups > 0, channels % groups == 0 else {
        throw NodeError("num_groups \(groups) should be positive and divide the \(channels) channels")
      }
      try checkStashType(n)
    }
    var scale = try n.requiredConstant(1, "scale").floats
    var bias = try n.requiredConstant(2, "B").floats
    let perGroup = group && n.opset < 21
    let count = perGroup ? groups : channels
    guard scale.count == count, bias.count == count else {
      throw NodeError(
        "scale \(scale.shape) and B \(bias.shape) need \(count) values each (one per \(perGroup ? "group" : "channel"))"
      )
    }
    if perGroup {
      let size = channels / groups
      scale = Tensor(shape: [channels], scalars: (0..<channels).map { scale.scalars[$0 / size] })
      bias = Tensor(shape: [channels], scalars: (0..<channels).map { bias.scalars[$0 / size] })
    }
    let layer = ONNXNormalization(
      group ? .group : .instance, groups: groups, epsilon: try epsilon(n), scale: scale.reshaped([channels]),
      bias: bias.reshaped([channels]))
    n.define(0, try n.emit(layer, [x], hints: [n.hint(0)]))
  }
}
