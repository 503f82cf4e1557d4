import LatheTensor

/// GPTQ (Frantar, Ashkboos, Hoefler, Alistarh, "GPTQ: Accurate Post-Training Quantization for
/// Generative Pre-trained Transformers", ICLR 2023): quantizes a Linear weight one input column
/// at a time and, after each column, moves the columns not yet quantized to make up for its
/// rounding error, using the inverse of the layer's input Hessian H = 2/n·XᵀX (the OBS update).
/// Every row shares H, so the whole matrix is done in one pass.
///
/// The result is the same stored form as round-to-nearest (`GroupQuantizedWeights`: symmetric
/// levels, one fp32 scale per group of consecutive inputs): files are the same size, only the
/// integers differ.
///
/// - Columns go in blocks of 128; within a block each column's error updates the rest of the
///   block at once, the columns after the block get the block's errors in one product at its
///   end (the paper's lazy batch updates).
/// - `actOrder` quantizes the columns with the largest H_jj (largest inputs) first, while
///   there are many columns left to absorb their error. Its group scales are then *static*:
///   computed on the original weight in the original column order before anything moves, so a
///   group is still a run of consecutive inputs and the stored form needs no g_idx (the per
///   column group index that GPTQ's dynamic-group act-order files carry).
/// - Without `actOrder` a group's scale is taken when the pass reaches its first column, from
///   the weights as the earlier columns' updates left them (GPTQ's default).
/// - Inputs that were always zero (H_jj = 0) get H_jj = 1 and a zero weight column.
/// - Weights a mask removed stay exactly zero (level 0) and their error is spread like any other
///   (SparseGPT's joint sparsity and quantization), so a pruned layer keeps its sparsity.
public enum GPTQ {
  public struct Settings: Sendable {
    public var bits: Int
    public var groupSize: Int
    public var actOrder: Bool
    /// Fraction of H's mean diagonal added to its diagonal.
    public var damp: Double
    public var blockSize: Int

    public init(bits: Int, groupSize: Int, actOrder: Bool = false, damp: Double = 0.01, blockSize: Int = 128) {
      self.bits = bits
      self.groupSize = groupSize
      self.actOrder = actOrder
      self.damp = damp
      self.blockSize = blockSize
    }
  }

  /// The quantized form of `weight` [out, in] for inputs whose Hessian is `hessian`; `mask`
  /// (1 keep, 0 removed, same shape) forces removed weights to zero.
  public static func quantize(
    _ weight: Tensor<Float>, hessian: SymmetricMatrix, settings s: Settings, mask: Tensor<Float>? = nil
  ) throws -> GroupQuantizedWeights {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    precondition(hessian.size == columns, "Hessian of \(hessian.size) inputs for a weight of \(columns)")
    var w = weight.contiguous().scalars.map(Double.init)
    let removed = mask?.scalars.map { $0 == 0 }
    var h = hessian
    for j in h.reviveDeadInputs() {
      for r in 0..<rows { w[r * columns + j] = 0 }
    }
    let groups = (columns + s.groupSize - 1) / s.groupSize
    let top = Double(GroupQuantizedWeights.maxLevel(bits: s.bits))
    var scales = [Float](repeating: 0, count: rows * groups)
    if s.actOrder {
      for r in 0..<rows {
        for g in 0..<groups {
          let range = (r * columns + g * s.groupSize)..<(r * columns + min((g + 1) * s.groupSize, columns))
          scales[r * groups + g] = GroupQuantizedWeights.scale(
            bound: Float(w[range].reduce(0) { max($0, abs($1)) }), bits: s.bits)
        }
      }
    }
    // Position i of the pass quantizes column order[i]; w and h are permuted to pass order.
    let diagonal = h.diagonal
    let order =
      s.actOrder ? (0..<columns).sorted { (diagonal[$0], $1) > (diagonal[$1], $0) } : Array(0..<columns)
    if s.actOrder {
      h = h.permuted(order)
      w = permuteColumns(w, rows: rows, columns: columns, order: order)
    }
    h.dampen(s.damp)
    let u = try h.inverseCholeskyUpper()
    var levels = [Int8](repeating: 0, count: rows * columns)
    let block = max(1, s.blockSize)
    var errors = [Double](repeating: 0, count: rows * block)
    w.withUnsafeMutableBufferPointer { w in
      u.withUnsafeBufferPointer { u in
        errors.withUnsafeMutableBufferPointer { errors in
          let pass = OBSUpdate.Pass(w: w, u: u, errors: errors, rows: rows, columns: columns, block: block)
          var start = 0
          while start < columns {
            let end = min(start + block, columns)
            for i in start..<end {
              let column = order[i]
              let group = column / s.groupSize
              if !s.actOrder && column % s.groupSize == 0 {
                // The group's scale from its weights as they stand now: columns past the block
                // still owe the block's pending updates, added here.
                let groupEnd = min(column + s.groupSize, columns)
                for r in 0..<rows {
                  var bound = 0.0
                  for c in column..<groupEnd {
                    var value = w[r * columns + c]
                    if c >= end {
                      for k in start..<i { value -= errors[r * block + k - start] * u[k * columns + c] }
                    }
                    bound = max(bound, abs(value))
                  }
                  scales[r * groups + group] = GroupQuantizedWeights.scale(bound: Float(bound), bits: s.bits)
                }
              }
              for r in 0..<rows {
                let value = w[r * columns + i]
                let scale = Double(scales[r * groups + group])
                var level = 0.0
                if removed?[r * columns + column] != true {
                  level = min(max((value / scale).rounded(.toNearestOrEven), -top), top)
                }
                levels[r * columns + column] = Int8(level)
                pass.spread(value - level * scale, row: r, column: i, blockStart: start, blockEnd: end)
              }
            }
            pass.finishBlock(start: start, end: end)
            start = end
          }
        }
      }
    }
    return GroupQuantizedWeights(
      values: levels, rows: rows, columns: columns, bits: s.bits, groupSize: s.groupSize, scales: scales)
  }

  /// Columns reordered: column i of the result is column order[i].
  static func permuteColumns(_ w: [Double], rows: Int, columns: Int, order: [Int]) -> [Double] {
    var out = w
    for r in 0..<rows {
      for i in 0..<columns { out[r * columns + i] = w[r * columns + order[i]] }
    }
    return out
  }
}
