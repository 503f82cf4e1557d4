import LatheTensor

extension Model {
  /// The inputs each of `layers` receives when this model runs the first example of `data`
  /// (empty for an empty set): what the speed checks time a layer's two kernels on, so they
  /// see real shapes and values.
  func firstExampleInputs(of layers: Set<String>, in data: Dataset) -> [String: [Variable]] {
    guard data.count > 0 else { return [:] }
    var inputs: [String: [Variable]] = [:]
    GradientRecording.disabled {
      var context = ForwardContext.inference
      _ = forward(feeds: feeds(data, 0..<1).map { Variable($0) }, context: &context) { node, x, _ in
        if layers.contains(node.name) { inputs[node.name] = x.map { Variable($0.value) } }
      }
    }
    return inputs
  }
}
