@testable import LatheTUI

/// A 500-node graph named the way ONNX exports name a YOLO-style network (`/model.7/cv1/conv/Conv`),
/// made up but shaped like a real import: a stem, 62 repeated blocks of eight nodes (two convs
/// on the block's input, a third on the second, a residual Add and a Concat) and a head. After
/// `afterStep`, the first ten blocks are pruned and int8 with their first ReLU folded into the
/// conv (the ReLU node gone, as Lathe's deployment leaves it), and every layer has a time share
/// and an output error.
enum LargeModel {
  static let blockCount = 62

  /// The graph as opened: 500 layers, nothing changed.
  static var original: [LayerRow] {
    var layers: [LayerRow] = []
    func add(_ name: String, _ op: String, _ inputs: [String], channels: Int, weights: Int = 0) {
      let size = 160 >> min(4, channels / 64)
      layers.append(
        LayerRow(
          name: name, op: op, shape: [1, channels, size, size], parameters: weights, sparsity: 0, bits: 32,
          bytes: weights * 4, kernel: weights > 0 ? "im2col+sgemm" : op, inputs: inputs))
    }
    add("/model.0/conv/Conv", "conv2d", ["images"], channels: 16, weights: 16 * 3 * 9 + 16)
    add("/model.0/act/Relu", "relu", ["/model.0/conv/Conv"], channels: 16)
    var previous = "/model.0/act/Relu"
    for block in 1...blockCount {
      let p = "/model.\(block)/"
      let channels = 16 + (block % 8) * 16
      let weights = channels * channels * 9 + channels
      add(p + "cv1/conv/Conv", "conv2d", [previous], channels: channels, weights: weights)
      add(p + "cv1/act/Relu", "relu", [p + "cv1/conv/Conv"], channels: channels)
      add(p + "cv2/conv/Conv", "conv2d", [previous], channels: channels, weights: weights)
      add(p + "cv2/act/Relu", "relu", [p + "cv2/conv/Conv"], channels: channels)
      add(p + "m/conv/Conv", "conv2d", [p + "cv2/act/Relu"], channels: channels, weights: weights / 4)
      add(p + "m/act/Relu", "relu", [p + "m/conv/Conv"], channels: channels)
      add(p + "Add", "add", [p + "cv2/act/Relu", p + "m/act/Relu"], channels: channels)
      add(p + "Concat", "concat", [p + "cv1/act/Relu", p + "Add"], channels: 2 * channels)
      previous = p + "Concat"
    }
    add("/head/GlobalAveragePool", "global_avgpool", [previous], channels: 256)
    add("/head/Gemm", "linear", ["/head/GlobalAveragePool"], channels: 4, weights: 256 * 4 + 4)
    return layers
  }

  /// The graph after a prune-and-int8 step on blocks 1 to 10 (see the type's comment).
  static var afterStep: [LayerRow] {
    var layers = original
    let totalWeights = Double(layers.reduce(0) { $0 + $1.parameters + 200 })
    for i in layers.indices {
      layers[i].latencyShare = Double(layers[i].parameters + 200) / totalWeights
      layers[i].outputSQNR = 45 - Double(i % 40) / 2
    }
    for block in 1...10 {
      let p = "/model.\(block)/"
      for i in layers.indices where layers[i].name.hasPrefix(p) && layers[i].parameters > 0 {
        layers[i].sparsity = 0.5
        layers[i].bits = 8
        layers[i].bytes = layers[i].parameters / 2
        layers[i].kernel = "int8"
        layers[i].outputSQNR = 15 + Double(block)
      }
      // The first ReLU now runs inside the conv: its readers read the conv.
      let conv = p + "cv1/conv/Conv"
      let relu = p + "cv1/act/Relu"
      layers.removeAll { $0.name == relu }
      for i in layers.indices {
        if layers[i].name == conv { layers[i].foldedActivation = "relu" }
        layers[i].inputs = layers[i].inputs.map { $0 == relu ? conv : $0 }
      }
    }
    return layers
  }

  /// The fake session showing the graph after the step, with the original as its first snapshot.
  static func session() -> FakeWorkbenchSession {
    let session = FakeWorkbenchSession()
    let layers = afterStep
    let parameters = layers.reduce(0) { $0 + $1.parameters }
    session.state.model = ModelSummary(
      name: "yolo-500", path: "samples/yolo-500.onnx", dataset: "pages", layers: layers,
      totals: ModelTotals(
        parameters: parameters, nonzeros: parameters * 9 / 10, bytes: layers.reduce(0) { $0 + $1.bytes },
        accuracy: 0.95))
    session.customSnapshots = [
      SnapshotSummary(name: "original", metrics: FakeWorkbenchSession.baseline, layers: original),
      SnapshotSummary(name: "prune-50", metrics: FakeWorkbenchSession.pruned, layers: layers),
    ]
    session.state.revision += 1
    return session
  }
}
