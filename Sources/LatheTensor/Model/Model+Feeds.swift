/// The tensors a model of several inputs runs on: its first input from a dataset's `inputs`,
/// each extra one from the dataset's `namedInputs` under the name the model's file gives it.
extension Model {
  /// The name the model's file gives its first input, when it came from one ("input_ids").
  public var inputSourceName: String? { metadata["onnx.input-name"] }

  /// Why `data` cannot feed this model's extra inputs; nil when it can (or there are none).
  public func missingFeeds(in data: Dataset) -> String? {
    let missing = extraInputs.filter { data.namedInputs[$0.sourceName] == nil }.map(\.sourceName)
    guard !missing.isEmpty else { return nil }
    return "the model also reads \(missing.joined(separator: ", ")), which \(data.name) does not hold "
      + "(an .npz with an array of that name feeds it)"
  }

  /// Feeds for examples `range` of `data`, once `missingFeeds` said they are there.
  public func feeds(_ data: Dataset, _ range: Range<Int>) -> [Tensor<Float>] {
    let first = data.inputs.sliced(axis: 0, range)
    let primary = first.reshaped(batchShape(range.count, of: data))
    return [primary]
      + extraInputs.map { input in
        let all = data.namedInputs[input.sourceName]!
        guard let axis = input.batchAxis, axis > 0 else { return all.sliced(axis: 0, range) }
        // Stored example-first, as every dataset array is; the model wants the batch at `axis`.
        let rows = all.sliced(axis: 0, range)
        var order = Array(1..<rows.shape.count)
        order.insert(0, at: min(axis, order.count))
        return rows.permuted(order).contiguous()
      }
  }

  /// Feeds of `batchSize` random examples (uniform in [0, 1)) for timing: the extra inputs
  /// at their example shapes with the batch axis sized, zeros (a mask, a recurrent state).
  public func exampleFeeds(batchSize: Int, generator: inout SeededGenerator) -> [Tensor<Float>] {
    let primary = Tensor<Float>.uniform([batchSize] + inputShape, low: 0, high: 1, generator: &generator)
    return [primary]
      + extraInputs.map { input in
        var shape = input.exampleShape
        if let axis = input.batchAxis, axis < shape.count { shape[axis] = batchSize }
        return Tensor<Float>.zeros(shape)
      }
  }
}
