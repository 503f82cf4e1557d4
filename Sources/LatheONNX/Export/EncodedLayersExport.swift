import LatheCompress
import LatheTensor

// The ONNX forms of LatheCompress's sparse and shared-weight layers (SparseLinear.swift):
// their weights decoded to dense fp32, which ONNX Runtime runs densely. 2:4 weights too: ONNX
// has no 2:4 sparse type.

extension SparseLinear: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.sparseLinear(self) }
}

extension SemiStructuredLinear: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.fullyConnected(weight: weights.dense(), bias: bias)
  }
}

/// FP8/FP4 weights as the fp32 values they decode to (what Lathe computes with).
extension FloatCodedLinear: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.fullyConnected(weight: effectiveWeight!, bias: bias)
  }
}

extension EncodedConv2d: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.encodedConv2d(self) }
}

extension LayerExport {
  fileprivate func sparseLinear(_ l: SparseLinear) { fullyConnected(weight: l.weights.dense(), bias: l.bias?.value) }

  fileprivate func encodedConv2d(_ l: EncodedConv2d) {
    let spec = l.spec
    let w = builder.floats("\(name).weight", l.weights.dense())
    let b = l.parameters.first.map { builder.floats("\(name).bias", $0.parameter.value) }
    let attributes = conv(
      l.weights.shape, (try? spec.ints("stride")) ?? [1, 1], (try? spec.ints("padding")) ?? [0, 0, 0, 0],
      (try? spec.ints("dilation")) ?? [1, 1], (try? spec.int("groups")) ?? 1)
    emit("Conv", [inputs[0], w] + (b.map { [$0] } ?? []), attributes)
  }
}
