/// Labelled examples held in memory: images as fp32 [N, C, H, W] scaled to [0, 1] (or
/// features as [N, F]), labels as class indices.
public struct Dataset: Sendable {
  public var name: String
  public var inputs: Tensor<Float>
  public var labels: [Int]
  public var classCount: Int

  public init(name: String, inputs: Tensor<Float>, labels: [Int], classCount: Int) {
    precondition(inputs.shape.first == labels.count, "\(labels.count) labels for inputs of shape \(inputs.shape)")
    self.name = name
    self.inputs = inputs
    self.labels = labels
    self.classCount = classCount
  }

  public var count: Int { labels.count }

  /// The shape of one example, without the batch axis.
  public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

  /// The examples at `indices`, in that order.
  public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
    let per = sampleShape.reduce(1, *)
    let picked = inputs.withUnsafeBufferPointer { src in
      Tensor<Float>(shape: [indices.count] + sampleShape) { dst in
        for (row, index) in indices.enumerated() {
          (dst.baseAddress! + row * per).update(from: src.baseAddress! + index * per, count: per)
        }
      }
    }
    return Dataset(name: name ?? self.name, inputs: picked, labels: indices.map { labels[$0] }, classCount: classCount)
  }

  /// Examples `range`, in order.
  public func slice(_ range: Range<Int>) -> Dataset { subset(Array(range)) }
}

/// A dataset's fixed train and test parts.
public struct DatasetSplit: Sendable {
  public var train: Dataset
  public var test: Dataset
  public init(train: Dataset, test: Dataset) {
    self.train = train
    self.test = test
  }
}
