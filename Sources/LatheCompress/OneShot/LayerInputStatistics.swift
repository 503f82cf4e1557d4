import LatheTensor

/// What the one-shot methods learn about one Linear layer's inputs from calibration data: the
/// Gram matrix XᵀX (GPTQ's and SparseGPT's Hessian H = 2/n·XᵀX), each input channel's L2 norm
/// ‖X_j‖₂ (Wanda) and mean |X_j| (AWQ), and some of the rows themselves (AWQ measures the
/// layer's output error on them). A row is one input vector: an MLP's example, or one position
/// of a sequence ([batch, seq, in] folds into batch·seq rows, as `Linear` computes them).
public struct LayerInputStatistics: Sendable {
  public let columns: Int
  /// Input rows seen.
  public private(set) var count = 0
  /// Σ xᵀx over the rows, fp64 (each batch's product is taken in fp32 by the GEMM, then added).
  public private(set) var gram: [Double]
  private var sumSquares: [Double]
  private var sumAbsolute: [Double]
  /// The first `keptRowLimit` rows, row-major [keptRows, columns].
  public private(set) var keptRows: [Float] = []
  public let keptRowLimit: Int

  public init(columns: Int, keptRowLimit: Int = 0) {
    self.columns = columns
    self.keptRowLimit = keptRowLimit
    gram = [Double](repeating: 0, count: columns * columns)
    sumSquares = [Double](repeating: 0, count: columns)
    sumAbsolute = [Double](repeating: 0, count: columns)
  }

  /// Adds the rows of `x` [..., columns].
  public mutating func add(_ x: Tensor<Float>) {
    precondition(x.shape.last == columns, "inputs of width \(x.shape.last ?? 0), expected \(columns)")
    let rows = x.count / columns
    guard rows > 0 else { return }
    let matrix = x.contiguous().reshaped([rows, columns])
    let product = matrix.matmul(matrix, transposeSelf: true)
    product.withUnsafeBufferPointer { p in
      for i in 0..<p.count { gram[i] += Double(p[i]) }
    }
    matrix.withUnsafeBufferPointer { v in
      for r in 0..<rows {
        for j in 0..<columns {
          let value = Double(v[r * columns + j])
          sumSquares[j] += value * value
          sumAbsolute[j] += abs(value)
        }
      }
      let keep = min(rows, keptRowLimit - keptRows.count / max(columns, 1))
      if keep > 0 { keptRows += v[0..<(keep * columns)] }
    }
    count += rows
  }

  public var keptRowCount: Int { keptRows.count / max(columns, 1) }

  /// H = 2/n·XᵀX, the Hessian of the layer's squared output error with respect to a weight row.
  public var hessian: SymmetricMatrix {
    let factor = 2 / Double(max(count, 1))
    return SymmetricMatrix(size: columns, elements: gram.map { $0 * factor })
  }

  /// ‖X_j‖₂ over all rows, per input channel (Wanda's activation norm).
  public var channelNorms: [Double] { sumSquares.map { $0.squareRoot() } }

  /// Mean |X_j| over all rows, per input channel (AWQ's activation magnitude).
  public var meanAbsolute: [Double] { sumAbsolute.map { $0 / Double(max(count, 1)) } }

  /// tr(E·XᵀX·Eᵀ) for E [rows, columns] row-major: Σ over the seen rows of ‖E·x‖², the squared
  /// output error of a layer whose weight is off by E. One fp32 GEMM.
  public func squaredOutputError(of difference: [Float], rows: Int) -> Double {
    precondition(difference.count == rows * columns)
    let e = Tensor(shape: [rows, columns], scalars: difference)
    let g = Tensor(shape: [columns, columns], scalars: gram.map { Float($0) })
    let eg = e.matmul(g)
    var total = 0.0
    eg.withUnsafeBufferPointer { p in
      for i in 0..<p.count { total += Double(p[i]) * Double(difference[i]) }
    }
    return total
  }

  /// The squared output error of `approximation` against `weight` relative to the output's own
  /// squared norm, on the seen rows (bias left out: it cancels).
  public func relativeOutputError(_ weight: [Float], _ approximation: [Float], rows: Int) -> Double {
    let error = squaredOutputError(of: zip(weight, approximation).map { $0 - $1 }, rows: rows)
    let norm = squaredOutputError(of: weight, rows: rows)
    return norm > 0 ? error / norm : error
  }
}
