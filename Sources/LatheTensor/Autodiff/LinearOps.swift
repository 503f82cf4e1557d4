import CKernels

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
    let y = value.linearForward(weight: weight.value, bias: bias?.value)
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
  /// x·Wᵀ + b in one BLAS call: the output starts as copies of the bias and the product is
  /// accumulated onto it (beta = 1), so the bias costs no extra pass.
  public func linearForward(weight: Tensor, bias: Tensor?) -> Tensor {
    guard let bias else { return matmul(weight, transposeOther: true) }
    let x = contiguous()
    let w = weight.contiguous()
    precondition(x.rank == 2 && w.rank == 2 && x.shape[1] == w.shape[1], "linear: input \(x.shape), weight \(w.shape)")
    let (rows, inputs, outputs) = (x.shape[0], x.shape[1], w.shape[0])
    precondition(bias.count == outputs, "linear: bias \(bias.shape) for \(outputs) outputs")
    return bias.withUnsafeBufferPointer { b in
      Tensor(shape: [rows, outputs]) { y in
        for r in 0..<rows { (y.baseAddress! + r * outputs).update(from: b.baseAddress!, count: outputs) }
        guard inputs > 0, rows > 0 else { return }
        x.withUnsafeBufferPointer { xp in
          w.withUnsafeBufferPointer { wp in
            lk_sgemm(
              0, 1, Int32(rows), Int32(outputs), Int32(inputs), 1, xp.baseAddress!, Int32(inputs), wp.baseAddress!,
              Int32(inputs), 1, y.baseAddress!, Int32(outputs))
          }
        }
      }
    }
  }
}
