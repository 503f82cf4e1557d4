/// The tensors a model of several inputs runs on: its first input from a dataset's `inputs`,
/// each extra one from the dataset's `namedInputs` under the name the model's file gives it.
extension Model {
  /// Where a model keeps the name of its first input when it has others (an encoder's
  /// "input_ids"); ONNX models keep the file's under "onnx.input-name".
  public static let inputNameKey = "input-name"

  /// The name the model's file gives its first input, when it came from one ("input_ids").
  public var inputSourceName: String? { metadata[Model.inputNameKey] ?? metadata["onnx.input-name"] }

  /// The array of `data` that feeds the first input: the one named as the model names it when
  /// the data holds several (a dataset's `inputs` is its first array in sorted order, which for
  /// `input_ids` and `attention_mask` is the mask), else `data.inputs`.
  public func primaryInputs(of data: Dataset) -> Tensor<Float> {
    guard !extraInputs.isEmpty, let name = inputSourceName, let named = data.namedInputs[name] else {
      return data.inputs
    }
    return named
  }

  /// Why `data` cannot feed this model's extra inputs; nil when it can (or there are none):
  /// an array missing, examples of another shape than the input takes, or, for an input with
  /// no batch axis (Silero's sample rate), examples that differ (one value feeds a batch).
  public func missingFeeds(in data: Dataset) -> String? {
    let missing = extraInputs.filter { data.namedInputs[$0.sourceName] == nil }.map(\.sourceName)
    guard missing.isEmpty else {
      return "the model also reads \(missing.joined(separator: ", ")), which \(data.name) does not hold "
        + "(an .npz with an array of that name feeds it)"
    }
    for input in extraInputs {
      let array = data.namedInputs[input.sourceName]!
      let example = Array(array.shape.dropFirst())
      var expected = input.shape
      if let axis = input.batchAxis, axis < expected.count { expected.remove(at: axis) }
      // A scalar input is read from a vector of one value per example, which the readers hold
      // as [N, 1].
      let fits =
        (example.count == expected.count && zip(example, expected).allSatisfy { $1 < 0 || $0 == $1 })
        || (expected.isEmpty && example == [1])
      guard fits else {
        let wanted = expected.map { $0 < 0 ? "?" : String($0) }.joined(separator: ", ")
        return "array \"\(input.sourceName)\" of \(data.name) holds examples of shape \(example); "
          + "the model's input takes [\(wanted)] per example"
      }
      if input.batchAxis == nil, let differing = Self.firstRowDiffering(array) {
        return "array \"\(input.sourceName)\" of \(data.name) differs between examples (0 and \(differing)), but "
          + "the model's input has no batch axis: one value feeds a whole batch"
      }
    }
    return nil
  }

  /// The first example (row along axis 0) of `array` that differs from example 0, if any: one
  /// pass over the elements in place (this runs on every fit and latency check).
  static func firstRowDiffering(_ array: Tensor<Float>) -> Int? {
    let rows = array.shape.first ?? 0
    guard rows > 1 else { return nil }
    return array.withUnsafeBufferPointer { values in
      let width = values.count / rows
      for r in 1..<rows {
        for i in 0..<width where values[r * width + i] != values[i] { return r }
      }
      return nil
    }
  }

  /// Feeds for examples `range` of `data`, once `missingFeeds` said they are there.
  public func feeds(_ data: Dataset, _ range: Range<Int>) -> [Tensor<Float>] {
    let first = primaryInputs(of: data).sliced(axis: 0, range)
    let primary = first.reshaped(batchShape(range.count, of: data))
    return [primary]
      + extraInputs.map { input in
        let all = data.namedInputs[input.sourceName]!
        // No batch axis (a scalar such as a sample rate): every example holds the same value
        // (`missingFeeds` checked), which feeds the whole batch.
        guard let axis = input.batchAxis else {
          return all.sliced(axis: 0, range.lowerBound..<(range.lowerBound + 1)).reshaped(input.exampleShape)
        }
        guard axis > 0 else { return all.sliced(axis: 0, range) }
        // Stored example-first, as every dataset array is; the model wants the batch at `axis`.
        let rows = all.sliced(axis: 0, range)
        var order = Array(1..<rows.shape.count)
        order.insert(0, at: min(axis, order.count))
        return rows.permuted(order).contiguous()
      }
  }

  /// Feeds of `batchSize` random examples (uniform in [0, 1)) for timing: the extra inputs
  /// at their example shapes with the batch axis sized, zeros (a mask, a recurrent state). A
  /// transformer reads token ids, so its examples are random whole ids in its vocabulary.
  public func exampleFeeds(batchSize: Int, generator: inout SeededGenerator) -> [Tensor<Float>] {
    var primary = Tensor<Float>.uniform([batchSize] + inputShape, low: 0, high: 1, generator: &generator)
    if let vocabulary = transformerConfig?.vocabulary {
      primary = primary.mapFloat { ($0 * Float(vocabulary)).rounded(.down) }
    }
    return [primary]
      + extraInputs.map { input in
        var shape = input.exampleShape
        if let axis = input.batchAxis, axis < shape.count { shape[axis] = batchSize }
        return Tensor<Float>.zeros(shape)
      }
  }
}
