/// A dense symmetric matrix in fp64, row-major: the Hessian H = 2/n·XᵀX of a Linear layer's
/// inputs that GPTQ and SparseGPT invert. Layer widths are at most a few thousand, so plain
/// O(n³) Cholesky in fp64 is affordable and keeps the inverse accurate where fp32 would not.
public struct SymmetricMatrix: Sendable, Equatable {
  public let size: Int
  /// size × size, row-major; kept symmetric by every operation here.
  public internal(set) var elements: [Double]

  public init(size: Int, elements: [Double]) {
    precondition(elements.count == size * size, "a \(size)×\(size) matrix needs \(size * size) elements")
    self.size = size
    self.elements = elements
  }

  public subscript(i: Int, j: Int) -> Double {
    get { elements[i * size + j] }
    set { elements[i * size + j] = newValue }
  }

  public var diagonal: [Double] { (0..<size).map { elements[$0 * size + $0] } }

  /// Inputs that were always zero (H_jj = 0) get H_jj = 1, which makes H invertible without
  /// changing anything else: their weights meet no input, so the caller zeroes them. Returns
  /// their indices.
  public mutating func reviveDeadInputs() -> [Int] {
    let dead = (0..<size).filter { elements[$0 * size + $0] == 0 }
    for j in dead { elements[j * size + j] = 1 }
    return dead
  }

  /// Adds `fraction` of the mean diagonal to the diagonal (GPTQ's `percdamp`): the damping
  /// that keeps the inverse stable when calibration inputs are few or correlated.
  public mutating func dampen(_ fraction: Double) {
    let damp = fraction * diagonal.reduce(0, +) / Double(max(size, 1))
    for j in 0..<size { elements[j * size + j] += damp }
  }

  /// Rows and columns reordered: element (i, j) of the result is (order[i], order[j]).
  public func permuted(_ order: [Int]) -> SymmetricMatrix {
    precondition(order.count == size)
    var out = [Double](repeating: 0, count: size * size)
    for i in 0..<size {
      for j in 0..<size { out[i * size + j] = elements[order[i] * size + order[j]] }
    }
    return SymmetricMatrix(size: size, elements: out)
  }

  /// Thrown when a pivot is not positive: the matrix is not positive definite (more damping).
  public struct NotPositiveDefinite: Error, CustomStringConvertible {
    public var pivot: Int
    public var description: String {
      "the input Hessian is not positive definite (pivot \(pivot)); raise damp"
    }
  }

  /// L, lower triangular with a positive diagonal, such that L·Lᵀ = H (row-major, zeros above
  /// the diagonal). A pivot below 1e-10 of its diagonal element counts as zero: the matrix is
  /// singular to working precision (a rank-deficient XᵀX leaves roundoff there, not 0), and
  /// an inverse through it would multiply errors by 1e10.
  public func cholesky() throws(NotPositiveDefinite) -> [Double] {
    let n = size
    var l = [Double](repeating: 0, count: n * n)
    var failed: Int?
    l.withUnsafeMutableBufferPointer { l in
      elements.withUnsafeBufferPointer { a in
        for j in 0..<n {
          var d = a[j * n + j]
          for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
          guard d > 1e-10 * a[j * n + j], d.isFinite else {
            failed = j
            return
          }
          let root = d.squareRoot()
          l[j * n + j] = root
          for i in (j + 1)..<max(n, j + 1) {
            var s = a[i * n + j]
            for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = s / root
          }
        }
      }
    }
    if let failed { throw NotPositiveDefinite(pivot: failed) }
    return l
  }

  /// H⁻¹ from H's Cholesky factor L: H⁻¹ = L⁻ᵀ·L⁻¹.
  public func inverse() throws(NotPositiveDefinite) -> SymmetricMatrix {
    let n = size
    let inverseL = Self.invertLower(try cholesky(), size: n)
    var out = [Double](repeating: 0, count: n * n)
    out.withUnsafeMutableBufferPointer { out in
      inverseL.withUnsafeBufferPointer { m in
        // (L⁻ᵀL⁻¹)_ij = Σ_k m_ki m_kj over k ≥ max(i, j), m = L⁻¹ lower triangular.
        for i in 0..<n {
          for j in i..<n {
            var s = 0.0
            for k in j..<n { s += m[k * n + i] * m[k * n + j] }
            out[i * n + j] = s
            out[j * n + i] = s
          }
        }
      }
    }
    return SymmetricMatrix(size: n, elements: out)
  }

  /// U, upper triangular, with Uᵀ·U = H⁻¹ (row-major, zeros below the diagonal): what
  /// GPTQ and SparseGPT read row by row. Row i of U holds, scaled by 1/U_ii, how the
  /// remaining weights i+1... should move to make up for the error made on weight i; U_ii² is
  /// the inverse Hessian's diagonal after eliminating the weights before i.
  public func inverseCholeskyUpper() throws(NotPositiveDefinite) -> [Double] {
    let n = size
    let lower = try inverse().cholesky()
    var upper = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in i..<n { upper[i * n + j] = lower[j * n + i] }
    }
    return upper
  }

  /// L⁻¹ of a lower triangular L with a positive diagonal, by forward substitution.
  static func invertLower(_ l: [Double], size n: Int) -> [Double] {
    var m = [Double](repeating: 0, count: n * n)
    m.withUnsafeMutableBufferPointer { m in
      l.withUnsafeBufferPointer { l in
        for j in 0..<n {
          m[j * n + j] = 1 / l[j * n + j]
          for i in (j + 1)..<max(n, j + 1) {
            var s = 0.0
            for k in j..<i { s -= l[i * n + k] * m[k * n + j] }
            m[i * n + j] = s / l[i * n + i]
          }
        }
      }
    }
    return m
  }
}
