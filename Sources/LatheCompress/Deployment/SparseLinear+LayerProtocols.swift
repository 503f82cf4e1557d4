import LatheTensor

// SparseLinear's and EncodedConv2d's answers to the layer protocols, apart from
// SparseLinear.swift, which holds the layers themselves and their kernel choice.

/// Built once from encoded weights; a file opens it through CompressedLayers' placeholder.
extension SparseLinear: LoadedThroughPlaceholder {
  public var effectiveWeight: Tensor<Float>? { weights.dense() }
}

/// Built once from encoded weights; a file opens it through CompressedLayers' placeholder.
extension EncodedConv2d: LoadedThroughPlaceholder {
  public var effectiveWeight: Tensor<Float>? { weights.dense() }
}
