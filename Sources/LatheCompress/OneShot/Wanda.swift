import LatheTensor

/// Wanda (Sun, Liu, Bair, Kolter, "A Simple and Effective Pruning Approach for Large Language
/// Models", ICLR 2024): a weight's importance is |W_ij|·‖X_j‖₂, its magnitude times the L2 norm
/// of the input it multiplies, and weights compete only within their output row (and, for N:M,
/// within their group of M inputs). No weight update: the kept weights stay as they were.
public enum Wanda {
  /// The mask [out, in] (1 keep, 0 remove) for `weight` given each input channel's norm.
  /// Weights a `previous` mask removed score below every other weight, so they are removed
  /// first and stay removed.
  public static func mask(
    _ weight: Tensor<Float>, channelNorms: [Double], sparsity: Double, pattern: SparsityPattern,
    previous: Tensor<Float>? = nil
  ) -> [Float] {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    precondition(channelNorms.count == columns)
    let w = weight.contiguous().scalars
    let old = previous?.scalars
    let scores = (0..<w.count).map { i in
      old?[i] == 0 ? -1 : Double(abs(w[i])) * channelNorms[i % columns]
    }
    var mask = pattern.mask(scores: scores, rows: rows, columns: columns, sparsity: sparsity)
    if let old {
      for i in mask.indices where old[i] == 0 { mask[i] = 0 }
    }
    return mask
  }
}
