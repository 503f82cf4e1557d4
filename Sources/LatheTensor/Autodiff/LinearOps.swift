// Matrix products. `linear` is the fused x·Wᵀ + b of a fully connected layer, with W stored
// [out, in] as PyTorch and ONNX's Gemm(transB=1) store it.

extension Variable {
  public func matmul(_ other: Variable) -> Variable {
    Variable(value.matmul(other.value), parents: [self, other]) { g in
      [
        // A matrix multiplied into a batch gets the batch's gradients summed.
        self.requiresGrad ? g.matmul(other.value, transposeOther: true).sumToShape(self.shape) : nil,
        other.requiresGrad ? self.value.matmul(g, transposeSelf: true).sumToShape(other.shape) : nil,
      ]
    }
  }

  /// y = x·Wᵀ + b for x [N, in], W [out, in], b [out].
  public func linear(weight: Variable, bias: Variable?) -> Variable {
    var y = value.matmul(weight.value, transposeOther: true)
    if let bias { y.addRowVector(bias.value) }
    let parents = bias.map { [self, weight, $0] } ?? [self, weight]
    return Variable(y, parents: parents) { g in
      var grads: [Tensor<Float>?] = [
        self.requiresGrad ? g.matmul(weight.value) : nil,
        weight.requiresGrad ? g.matmul(self.value, transposeSelf: true) : nil,
      ]
      if let bias { grads.append(bias.requiresGrad ? g.sum(axes: [0]) : nil) }
      return grads
    }
  }
}

extension Tensor where Scalar == Float {
  /// Adds `row` to every row of this [rows, columns] matrix in place.
  mutating func addRowVector(_ row: Tensor) {
    precondition(rank == 2 && row.count == shape[1], "addRowVector: \(row.shape) onto \(shape)")
    let (rows, columns) = (shape[0], shape[1])
    row.withUnsafeBufferPointer { r in
      withUnsafeMutableBufferPointer { m in
        for i in 0..<rows {
          let base = i * columns
          for j in 0..<columns { m[base + j] += r[j] }
        }
      }
    }
  }
}
