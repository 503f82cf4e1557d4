// Token embeddings: a table's rows picked by token id.

extension Variable {
  /// Rows of `table` [vocabulary, width] picked by `ids` (integer values held as floats, any
  /// shape): [..., width]. The gradient adds each position's gradient into its row, so a
  /// token seen twice gets both. The caller checks the ids are in range (`TokenEmbedding`).
  public static func gatherRows(_ table: Variable, ids: Tensor<Float>) -> Variable {
    let width = table.shape[1]
    let picked = ids.scalars.map { Int($0) }
    let t = table.value.contiguous()
    let y = t.withUnsafeBufferPointer { tp in
      Tensor<Float>(shape: ids.shape + [width]) { out in
        for (i, row) in picked.enumerated() {
          (out.baseAddress! + i * width).update(from: tp.baseAddress! + row * width, count: width)
        }
      }
    }
    return Variable(y, parents: [table]) { g in
      var grad = Tensor<Float>.zeros(table.shape)
      let gc = g.contiguous()
      gc.withUnsafeBufferPointer { gp in
        grad.withUnsafeMutableBufferPointer { dp in
          for (i, row) in picked.enumerated() {
            for j in 0..<width { dp[row * width + j] += gp[i * width + j] }
          }
        }
      }
      return [grad]
    }
  }
}
