import LatheTensor

extension LayerStatistics {
  /// A fixed-weight layer's statistics from what it stands for (`weights` logical weights, of
  /// which `nonzeroWeights` are not zero, and its bias) and the tensors it stores: bits per
  /// parameter are the stored bytes over the fp32 layer's parameters.
  static func stored(
    weights: Int, nonzeroWeights: Int, bias: Tensor<Float>?, tensors: [(name: String, tensor: AnyTensor)],
    storage: String
  ) -> LayerStatistics {
    let parameters = weights + (bias?.count ?? 0)
    let bytes = tensors.reduce(0) { $0 + $1.tensor.byteCount }
    return LayerStatistics(
      parameters: parameters, nonzeros: nonzeroWeights + (bias?.scalars.filter { $0 != 0 }.count ?? 0),
      storedBytes: bytes, bitsPerParameter: parameters == 0 ? 0 : Double(bytes * 8) / Double(parameters),
      storage: storage)
  }
}
