import LatheTensor

/// One Lathe node written as ONNX nodes; the last one writes `output`.
struct LayerExport {
  let builder: GraphBuilder
  let node: Node
  let inputs: [String]
  let output: String
  /// The shapes of `inputs` in the exporter's shape pass (batch 1); nil where not known.
  var inputShapes: [[Int]?] = []

  var name: String { node.name }

  /// Whether the first input is known to be a matrix [batch, features]. Gemm multiplies only
  /// matrices, so a fully connected layer over anything else (a transformer's [batch, sequence,
  /// hidden]) is written as MatMul and Add, the form PyTorch exports nn.Linear in.
  var inputIsMatrix: Bool { inputShapes.first??.count == 2 }

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
    try LayerExport(builder: builder, node: node, inputs: inputs, output: product, inputShapes: inputShapes)
      .exportLayer()
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

  /// y = x·Wᵀ + b with `weight` [out, in]: Gemm(transB=1) on a matrix input, else MatMul by the
  /// weight stored as [in, out] then Add of the bias, which the importer folds back into one
  /// Linear. The weight is `\(name).weight` either way.
  func fullyConnected(weight: Tensor<Float>, bias: Tensor<Float>?) {
    guard inputIsMatrix else {
      let w = builder.floats("\(name).weight", weight.transposed.contiguous())
      let b = bias.map { builder.floats("\(name).bias", $0) }
      matMulAdd(inputs[0], w, b, final: true)
      return
    }
    let w = builder.floats("\(name).weight", weight)
    let b = bias.map { builder.floats("\(name).bias", $0) }
    emit("Gemm", [inputs[0], w] + (b.map { [$0] } ?? []), [Attr.int("transB", 1)])
  }

  /// MatMul(x, w) then Add(b) when there is a bias; the last node written is `final`.
  @discardableResult
  func matMulAdd(_ x: String, _ w: String, _ b: String?, final: Bool) -> String {
    let product = emit("MatMul", [x, w], final: final && b == nil)
    guard let b else { return product }
    return emit("Add", [product, b], final: final)
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
