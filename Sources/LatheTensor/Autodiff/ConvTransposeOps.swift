import CKernels

extension Variable {
  /// 2-D transposed convolution over NCHW input with weight [in, out/groups, kh, kw]: the
  /// adjoint of `conv2d` with the same window, so it runs as conv2d's input gradient does, one
  /// GEMM (Wᵀ · x) per image and group, then col2im adds the columns into the output. Zero-
  /// stuffing the input and convolving, the textbook form, multiplies stride² zeros for
  /// every real product (a text detector's upsampling layers did four times the work).
  /// `padding` is (top, left, bottom, right) as for conv2d; `outputPadding` adds rows and
  /// columns at the end that only the bias reaches.
  public func convTranspose2d(
    weight: Variable, bias: Variable?, stride: [Int] = [1, 1], padding: [Int] = [0, 0, 0, 0],
    outputPadding: [Int] = [0, 0], dilation: [Int] = [1, 1], groups: Int = 1
  ) -> Variable {
    let x = value.contiguous()
    let w = weight.value.contiguous()
    precondition(x.rank == 4 && w.rank == 4, "convTranspose2d: input \(x.shape) and weight \(w.shape) must be 4-D")
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(w.shape[0] == c && c % groups == 0, "convTranspose2d: weight \(w.shape) for \(c) input channels")
    let padding = padding.count == 2 ? padding + padding : padding
    let (kh, kw) = (w.shape[2], w.shape[3])
    let og = w.shape[1]
    let outChannels = og * groups
    let cg = c / groups
    let k = og * kh * kw
    let outH = (h - 1) * stride[0] - padding[0] - padding[2] + dilation[0] * (kh - 1) + 1 + outputPadding[0]
    let outW = (wd - 1) * stride[1] - padding[1] - padding[3] + dilation[1] * (kw - 1) + 1 + outputPadding[1]
    precondition(outH > 0 && outW > 0, "convTranspose2d: output \(outH)x\(outW) for input \(h)x\(wd)")
    // The forward convolution this one is the adjoint of: over the output, back to the input.
    let geometry = WindowGeometry(kernel: [kh, kw], stride: stride, padding: padding, dilation: dilation)
    var win = geometry.window(batch: 1, channels: outChannels, height: outH, width: outW)
    precondition(Int(win.out_h) == h && Int(win.out_w) == wd, "convTranspose2d: output padding past the stride")
    let pin = h * wd
    let pout = outH * outW

    // As conv2d: small per-image products (c · k · P_in multiply-adds) run one image per core;
    // large ones let lk_sgemm split each product instead.
    let workers = c * k * pin < Parallel.smallGEMMWork ? max(1, min(Parallel.coreCount, n)) : 1
    let y = Tensor<Float>(shape: [n, outChannels, outH, outW]) { dst in
      dst.initialize(repeating: 0)
      x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          Parallel.forEach(workers) { worker in
            var image = win
            var cols = [Float](repeating: 0, count: k * pin)
            for img in Swift.stride(from: worker, to: n, by: workers) {
              let output = dst.baseAddress! + img * outChannels * pout
              for gi in 0..<groups {
                // cols [og·kh·kw, P_in] = W_gᵀ [og·kh·kw, cg] · x_g [cg, P_in]
                lk_sgemm(
                  1, 0, Int32(k), Int32(pin), Int32(cg), 1, wp.baseAddress! + gi * cg * k, Int32(k),
                  xp.baseAddress! + (img * c + gi * cg) * pin, Int32(pin), 0, &cols, Int32(pin))
                lk_col2im(&image, cols, Int32(gi * og), Int32(og), output)
              }
            }
          }
        }
      }
      if let bias = bias?.value.contiguous() {
        bias.withUnsafeBufferPointer { b in
          for img in 0..<n {
            for o in 0..<outChannels {
              let row = dst.baseAddress! + (img * outChannels + o) * pout
              for i in 0..<pout { row[i] += b[o] }
            }
          }
        }
      }
    }
    let parents = bias.map { [self, weight, $0] } ?? [self, weight]
    return Variable(y, parents: parents) { g in
      // ∂x: the forward convolution of the gradient, with the same weight and window.
      let dx: Tensor<Float>? =
        self.requiresGrad
        ? Variable(g).conv2d(
          weight: Variable(w), bias: nil, stride: stride, padding: padding, dilation: dilation, groups: groups
        ).value : nil
      var dw: Tensor<Float>? = nil
      if weight.requiresGrad {
        // ∂W_g [cg, og·kh·kw] = x_g [cg, N·P_in] · im2col(∂y)_gᵀ [N·P_in, og·kh·kw]
        win.batch = Int32(n)
        let xCNP = x.withUnsafeBufferPointer { xp in
          Tensor<Float>(shape: [c, n * pin]) {
            lk_ncp_to_cnp(xp.baseAddress!, $0.baseAddress!, Int32(n), Int32(c), Int32(pin))
          }
        }
        var grad = Tensor<Float>(shape: w.shape) { _ in }
        let gy = g.contiguous()
        for gi in 0..<groups {
          let columns = Tensor<Float>(shape: [k, n * pin]) { colBuffer in
            gy.withUnsafeBufferPointer {
              lk_im2col(&win, $0.baseAddress!, Int32(gi * og), Int32(og), colBuffer.baseAddress!)
            }
          }
          let part = xCNP.sliced(axis: 0, (gi * cg)..<((gi + 1) * cg)).matmul(columns, transposeOther: true)
          grad.withUnsafeMutableBufferPointer { d in
            part.withUnsafeBufferPointer { (d.baseAddress! + gi * cg * k).update(from: $0.baseAddress!, count: cg * k) }
          }
        }
        dw = grad
      }
      var grads: [Tensor<Float>?] = [dx, dw]
      if let bias { grads.append(bias.requiresGrad ? g.sum(axes: [0, 2, 3]) : nil) }
      return grads
    }
  }
}
