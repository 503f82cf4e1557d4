import CKernels

/// Where a 2-D window starts and how it moves: stride, padding (top, left, bottom, right),
/// dilation. Shared by convolution and pooling.
public struct WindowGeometry: Sendable, Equatable {
  public var kernelHeight: Int
  public var kernelWidth: Int
  public var stride: [Int]
  public var padding: [Int]
  public var dilation: [Int]
  public var ceilMode: Bool

  public init(
    kernel: [Int], stride: [Int] = [1, 1], padding: [Int] = [0, 0, 0, 0], dilation: [Int] = [1, 1],
    ceilMode: Bool = false
  ) {
    precondition(kernel.count == 2 && stride.count == 2 && dilation.count == 2, "2-D windows only")
    kernelHeight = kernel[0]
    kernelWidth = kernel[1]
    self.stride = stride
    self.padding = padding.count == 2 ? padding + padding : padding
    self.dilation = dilation
    self.ceilMode = ceilMode
  }

  public static func == (a: WindowGeometry, b: WindowGeometry) -> Bool {
    a.kernelHeight == b.kernelHeight && a.kernelWidth == b.kernelWidth && a.stride == b.stride
      && a.padding == b.padding && a.dilation == b.dilation && a.ceilMode == b.ceilMode
  }

  /// Output height and width for an input of `height` x `width`.
  public func outputSize(height: Int, width: Int) -> (Int, Int) {
    func size(_ input: Int, _ k: Int, _ s: Int, _ padBefore: Int, _ padAfter: Int, _ d: Int) -> Int {
      let span = input + padBefore + padAfter - d * (k - 1) - 1
      if span < 0 { return 0 }
      var out = (ceilMode ? (span + s - 1) / s : span / s) + 1
      // A ceil-mode window must start inside the input or the left padding (ONNX, PyTorch).
      if ceilMode && (out - 1) * s >= input + padBefore { out -= 1 }
      return out
    }
    return (
      size(height, kernelHeight, stride[0], padding[0], padding[2], dilation[0]),
      size(width, kernelWidth, stride[1], padding[1], padding[3], dilation[1])
    )
  }

  func window(batch: Int, channels: Int, height: Int, width: Int) -> lk_window {
    let (oh, ow) = outputSize(height: height, width: width)
    return lk_window(
      batch: Int32(batch), channels: Int32(channels), height: Int32(height), width: Int32(width),
      kernel_h: Int32(kernelHeight), kernel_w: Int32(kernelWidth), stride_h: Int32(stride[0]),
      stride_w: Int32(stride[1]), pad_top: Int32(padding[0]), pad_left: Int32(padding[1]),
      dilation_h: Int32(dilation[0]), dilation_w: Int32(dilation[1]), out_h: Int32(oh), out_w: Int32(ow),
      pad_bottom: Int32(padding[2]), pad_right: Int32(padding[3]))
  }
}

extension Variable {
  /// 2-D convolution over NCHW input with weight [out, in/groups, kh, kw]: im2col over the
  /// image, then one GEMM per group.
  public func conv2d(
    weight: Variable, bias: Variable?, stride: [Int] = [1, 1], padding: [Int] = [0, 0, 0, 0],
    dilation: [Int] = [1, 1], groups: Int = 1
  ) -> Variable {
    let x = value.contiguous()
    let w = weight.value.contiguous()
    precondition(x.rank == 4 && w.rank == 4, "conv2d: input \(x.shape) and weight \(w.shape) must be 4-D")
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let outChannels = w.shape[0]
    precondition(c % groups == 0 && outChannels % groups == 0, "conv2d: channels not divisible by groups")
    precondition(w.shape[1] == c / groups, "conv2d: weight \(w.shape) for \(c) input channels, \(groups) groups")
    let geometry = WindowGeometry(
      kernel: [w.shape[2], w.shape[3]], stride: stride, padding: padding, dilation: dilation)
    let win = geometry.window(batch: n, channels: c, height: h, width: wd)
    let p = Int(win.out_h * win.out_w)
    let cg = c / groups
    let og = outChannels / groups
    let k = cg * w.shape[2] * w.shape[3]

    // Forward runs image by image so each image's columns stay in cache and the GEMM writes
    // straight into the NCHW output ([out, P] per image). Small per-image products (LeNet's
    // convolutions) run single-threaded inside OpenBLAS, so images are spread over the cores
    // instead; large ones let the BLAS thread each product.
    let perImageMACs = og * k * p
    let pointwise =
      w.shape[2] == 1 && w.shape[3] == 1 && stride == [1, 1] && win.pad_top == 0 && win.pad_left == 0
      && win.pad_bottom == 0 && win.pad_right == 0
    // Columns past 4 MB (PP-OCRv6's detector on a 992x736 page: up to 158 MB, a 3x3 over 96
    // channels at 248x184, page-faulted in on every pass) are unfolded a band of output rows at
    // a time, about 1 MB each.
    let (outH, outW) = (Int(win.out_h), Int(win.out_w))
    let bandRows = k * p > 1 << 20 ? max(1, min(outH, (1 << 18) / max(1, k * outW))) : outH
    if cg == 1 && groups > 1 {
      let y = Self.depthwiseForward(x, w, bias?.value, window: win, multiplier: og)
      return convolutionVariable(y, input: x, weight: weight, w, bias: bias, window: win, groups: groups)
    }
    // At least one worker: an empty batch (n = 0) gives an empty output, not a zero stride.
    let workers = perImageMACs < Parallel.smallGEMMWork ? max(1, min(Parallel.coreCount, n)) : 1
    let y = Tensor<Float>(shape: [n, outChannels, Int(win.out_h), Int(win.out_w)]) { dst in
      let out = dst.baseAddress!
      x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          withOptionalPointer(bias?.value) { biasValues in
            Parallel.forEach(workers) { worker in
              var image = win
              image.batch = 1
              // Stride 1 takes the virtual-grid path (lk_conv2d_image_direct, bias included).
              let direct = pointwise || bandRows < outH ? 0 : lk_conv2d_direct_scratch(&image, Int32(cg), Int32(og))
              // Left unset: both kernels write all they read (zeroing LeNet-5 conv1's 115 kB of
              // scratch took a tenth of the layer at batch 1).
              let scratch = pointwise ? 0 : (direct > 0 ? direct : k * bandRows * outW)
              var cols = [Float](unsafeUninitializedCapacity: scratch) { _, count in count = scratch }
              for img in Swift.stride(from: worker, to: n, by: workers) {
                let input = xp.baseAddress! + img * c * h * wd
                let output = out + img * outChannels * p
                if pointwise {
                  // A 1x1, stride-1, unpadded window: the image [c, P] is already the GEMM's
                  // right-hand side, so no unfolding and no copy.
                  if let biasValues {
                    for o in 0..<outChannels { (output + o * p).update(repeating: biasValues[o], count: p) }
                  }
                  for gi in 0..<groups {
                    lk_sgemm(
                      0, 0, Int32(og), Int32(p), Int32(cg), 1, wp.baseAddress! + gi * og * k, Int32(k),
                      input + gi * cg * p, Int32(p), biasValues == nil ? 0 : 1, output + gi * og * p, Int32(p))
                  }
                  continue
                }
                if direct > 0 {
                  for gi in 0..<groups {
                    _ = lk_conv2d_image_direct(
                      &image, input, Int32(gi * cg), Int32(cg), wp.baseAddress! + gi * og * k, Int32(og),
                      biasValues.map { $0 + gi * og }, output + gi * og * p, &cols)
                  }
                  continue
                }
                for gi in 0..<groups {
                  for oy0 in Swift.stride(from: 0, to: outH, by: bandRows) {
                    let oy1 = min(outH, oy0 + bandRows)
                    let band = (oy1 - oy0) * outW
                    lk_im2col_rows(&image, input, Int32(gi * cg), Int32(cg), Int32(oy0), Int32(oy1), &cols)
                    lk_sgemm(
                      0, 0, Int32(og), Int32(band), Int32(k), 1, wp.baseAddress! + gi * og * k, Int32(k), cols,
                      Int32(band), 0, output + gi * og * p + oy0 * outW, Int32(p))
                  }
                }
                if let biasValues {
                  for o in 0..<outChannels {
                    let row = output + o * p
                    for i in 0..<p { row[i] += biasValues[o] }
                  }
                }
              }
            }
          }
        }
      }
    }
    return convolutionVariable(y, input: x, weight: weight, w, bias: bias, window: win, groups: groups)
  }

  /// Depthwise forward (one input channel per group): each (image, output channel) plane is
  /// independent, so the planes are split over the cores once the layer is big enough to pay
  /// for waking them.
  private static func depthwiseForward(
    _ x: Tensor<Float>, _ w: Tensor<Float>, _ bias: Tensor<Float>?, window: lk_window, multiplier: Int
  ) -> Tensor<Float> {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let outChannels = c * multiplier
    let p = Int(window.out_h * window.out_w)
    let planes = n * outChannels
    let macs = planes * p * w.shape[2] * w.shape[3]
    // A plane's share of the work below this many multiply-adds is not worth a thread.
    let minimumPerWorker = 65_536
    let workers = max(1, min(Parallel.coreCount, planes, macs / minimumPerWorker))
    return Tensor<Float>(shape: [n, outChannels, Int(window.out_h), Int(window.out_w)]) { dst in
      x.withUnsafeBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
          withOptionalPointer(bias) { biasValues in
            Parallel.forEach(workers) { worker in
              var image = window
              image.batch = 1
              var scratch = [Float](repeating: 0, count: lk_dwconv2d_scratch(&image))
              let first = planes * worker / workers
              let end = planes * (worker + 1) / workers
              var plane = first
              while plane < end {
                let img = plane / outChannels
                let o0 = plane % outChannels
                let o1 = min(outChannels, o0 + (end - plane))
                lk_dwconv2d_image(
                  &image, xp.baseAddress! + img * c * h * wd, Int32(multiplier), wp.baseAddress!, biasValues,
                  Int32(o0), Int32(o1), dst.baseAddress! + img * outChannels * p, &scratch)
                plane += o1 - o0
              }
            }
          }
        }
      }
    }
  }

  /// The convolution's output as a Variable whose backward unfolds the input again (im2col),
  /// whichever forward kernel made `y`.
  /// `x` and `w` are the contiguous input and weight the forward read.
  private func convolutionVariable(
    _ y: Tensor<Float>, input x: Tensor<Float>, weight: Variable, _ w: Tensor<Float>, bias: Variable?,
    window: lk_window, groups: Int
  ) -> Variable {
    var win = window
    let (n, c) = (x.shape[0], x.shape[1])
    let outChannels = w.shape[0]
    let p = Int(win.out_h * win.out_w)
    let cg = c / groups
    let og = outChannels / groups
    let k = cg * w.shape[2] * w.shape[3]
    let np = n * p
    let parents = bias.map { [self, weight, $0] } ?? [self, weight]
    return Variable(y, parents: parents) { g in
      let gCNP = g.withUnsafeBufferPointer { gp in
        Tensor<Float>(shape: [outChannels, np]) {
          lk_ncp_to_cnp(gp.baseAddress!, $0.baseAddress!, Int32(n), Int32(outChannels), Int32(p))
        }
      }
      var dx: Tensor<Float>? = self.requiresGrad ? .zeros(x.shape) : nil
      var dw: Tensor<Float>? = weight.requiresGrad ? Tensor(shape: w.shape) { _ in } : nil
      for gi in 0..<groups {
        let gGroup = gCNP.sliced(axis: 0, (gi * og)..<((gi + 1) * og))
        if dw != nil {
          // The columns are rebuilt for the whole batch here rather than kept from forward,
          // so inference never holds them.
          let columns = Tensor<Float>(shape: [k, np]) { colBuffer in
            x.withUnsafeBufferPointer { xp in
              lk_im2col(&win, xp.baseAddress!, Int32(gi * cg), Int32(cg), colBuffer.baseAddress!)
            }
          }
          let part = gGroup.matmul(columns, transposeOther: true)  // [og, k]
          dw!.withUnsafeMutableBufferPointer { d in
            part.withUnsafeBufferPointer { (d.baseAddress! + gi * og * k).update(from: $0.baseAddress!, count: og * k) }
          }
        }
        if dx != nil {
          let wGroup = w.reshaped([outChannels, k]).sliced(axis: 0, (gi * og)..<((gi + 1) * og))
          let dcols = wGroup.matmul(gGroup, transposeSelf: true)  // [k, np]
          dx!.withUnsafeMutableBufferPointer { d in
            dcols.withUnsafeBufferPointer {
              lk_col2im(&win, $0.baseAddress!, Int32(gi * cg), Int32(cg), d.baseAddress!)
            }
          }
        }
      }
      var grads: [Tensor<Float>?] = [dx, dw]
      if let bias { grads.append(bias.requiresGrad ? gCNP.sum(axes: [1]) : nil) }
      return grads
    }
  }
}
