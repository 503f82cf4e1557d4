import LatheTensor

/// One Lathe node written as ONNX nodes; the last one writes `output`.
struct LayerExport {
  let builder: GraphBuilder
  let node: Node
  let inputs: [String]
  let output: String

  var name: String { node.name }

  @discardableResult
  func emit(_ op: String, _ ins: [String], _ attributes: [Onnx_AttributeProto] = [], final: Bool = true) -> String {
    builder.node(op, ins, output: final ? output : nil, name: name, attributes)
  }

  func fail(_ reason: String) -> ONNXError { .unexportable(node: name, op: node.layer.op, reason: reason) }

  /// Writes the layer, then the ReLU it folded in (if any): the layer's product goes to an
  /// intermediate value and the Relu writes the node's output, so every exported graph computes
  /// what the layer's forward pass computes.
  func export() throws(ONNXError) {
    guard let folding = node.layer as? ReLUFolding, folding.relu else { return try exportLayer() }
    let product = builder.fresh("\(name)_product")
    try LayerExport(builder: builder, node: node, inputs: inputs, output: product).exportLayer()
    emit("Relu", [product])
  }

  /// The layer's own operators, without a folded activation.
  private func exportLayer() throws(ONNXError) {
    guard let layer = node.layer as? ONNXExportable else { throw fail("no ONNX form for this layer") }
    try layer.writeONNX(self)
  }

  /// The first opset that can express a layer (see `ONNXExportable.minimumONNXOpset`); a layer
  /// with no ONNX form asks for nothing, and its export fails with a message instead.
  static func minimumOpset(_ layer: Layer) -> Int {
    (layer as? ONNXExportable)?.minimumONNXOpset ?? ONNXExporter.opsetVersion
  }

  /// Conv and ConvTranspose attributes for a weight of `shape` [out, in/groups, kernel...].
  func conv(_ shape: [Int], _ stride: [Int], _ padding: [Int], _ dilation: [Int], _ groups: Int)
    -> [Onnx_AttributeProto]
  {
    [
      Attr.ints("kernel_shape", Array(shape.dropFirst(2))), Attr.ints("strides", stride), Attr.ints("pads", padding),
      Attr.ints("dilations", dilation), Attr.int("group", groups),
    ]
  }
}
