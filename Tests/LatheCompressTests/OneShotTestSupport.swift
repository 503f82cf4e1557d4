import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import XCTest

/// The bundled digits-mlp (64-64-10, trained on the bundled digits set) and that set: a real
/// trained model and real data for the one-shot methods.
func bundledDigitsMLP() throws -> (model: Model, data: DatasetSplit) {
  let model = try ModelFile.load(from: samplesDirectory.appendingPathComponent("models/digits-mlp.safetensors"))
  let data = try DatasetCatalog.load("digits", samplesDirectory: samplesDirectory)
  return (model, data)
}

/// The rows layer `name` of `model` receives for `data`'s examples, [rows, in].
func layerInputs(_ model: Model, _ name: String, _ data: Dataset) -> Tensor<Float> {
  var rows: Tensor<Float>?
  GradientRecording.disabled {
    var context = ForwardContext.inference
    _ = model.forward(feeds: model.feeds(data, 0..<data.count).map { Variable($0) }, context: &context) {
      node, x, _ in
      if node.name == name { rows = x[0].value.contiguous() }
    }
  }
  let x = rows!
  return x.reshaped([x.count / x.shape.last!, x.shape.last!])
}

/// Statistics of `x` [rows, in] as a calibration pass would gather them.
func statistics(_ x: Tensor<Float>, keptRows: Int = 4096) -> LayerInputStatistics {
  var s = LayerInputStatistics(columns: x.shape[1], keptRowLimit: keptRows)
  s.add(x)
  return s
}

/// ‖x·Wᵀ − x·Ŵᵀ‖², the layer's squared output error on the rows of `x`.
func outputError(_ x: Tensor<Float>, _ weight: Tensor<Float>, _ approximation: Tensor<Float>) -> Double {
  let a = x.matmul(weight, transposeOther: true).scalars
  let b = x.matmul(approximation, transposeOther: true).scalars
  return zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
}

/// `x` with input channels `channels` multiplied by `factor`: planted large activations.
func planted(_ x: Tensor<Float>, channels: [Int], factor: Float) -> Tensor<Float> {
  let columns = x.shape[1]
  var v = x.scalars
  for i in v.indices where channels.contains(i % columns) { v[i] *= factor }
  return Tensor(shape: x.shape, scalars: v)
}

/// The weight layer `name` applies to its input (dequantized, masked: whatever it holds).
func appliedWeight(_ model: Model, _ name: String) -> Tensor<Float> {
  model.nodes.first { $0.name == name }!.layer.effectiveWeight!
}

/// The layer called `name`.
func layer(_ model: Model, _ name: String) -> Layer { model.nodes.first { $0.name == name }!.layer }
