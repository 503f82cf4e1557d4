import LatheTensor

/// Sparse × dense products for pruned layers.
enum SparseKernels {
  /// Above this density the dense BLAS path is faster than the sparse kernel.
  static let denseAbove = 0.35

  static func prefersDense(density: Double) -> Bool { density > denseAbove }

  /// y[b, o] = Σ_i W[o, i]·x[b, i] + bias[o] with W in compressed sparse rows.
  static func linear(_ x: Tensor<Float>, _ layer: SparseLinear, bias: Tensor<Float>?) -> Tensor<Float> {
    let batch = x.shape[0]
    let inputs = layer.inputs
    let outputs = layer.outputs
    let biasValues = bias?.scalars ?? [Float](repeating: 0, count: outputs)
    return x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [batch, outputs]) { y in
        layer.rowPointers.withUnsafeBufferPointer { rp in
          layer.columns.withUnsafeBufferPointer { cp in
            layer.values.withUnsafeBufferPointer { vp in
              for b in 0..<batch {
                let row = xp.baseAddress! + b * inputs
                for o in 0..<outputs {
                  var sum = biasValues[o]
                  for j in Int(rp[o])..<Int(rp[o + 1]) { sum += vp[j] * row[Int(cp[j])] }
                  y[b * outputs + o] = sum
                }
              }
            }
          }
        }
      }
    }
  }
}
