import CKernels

extension Variable {
  /// Max pooling over NCHW; the gradient goes to the element that won each window.
  public func maxPool2d(_ geometry: WindowGeometry) -> Variable {
    let x = value.contiguous()
    var win = geometry.window(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3])
    let outShape = [x.shape[0], x.shape[1], Int(win.out_h), Int(win.out_w)]
    // Inference needs no winners: finding them doubles the cost of the pass.
    guard GradientRecording.isEnabled && requiresGrad else {
      return Variable(
        Tensor<Float>(shape: outShape) { dst in
          x.withUnsafeBufferPointer { lk_maxpool2d_parallel(&win, $0.baseAddress!, dst.baseAddress!, nil) }
        })
    }
    var winners = [Int32](repeating: -1, count: outShape.reduce(1, *))
    let y = Tensor<Float>(shape: outShape) { dst in
      x.withUnsafeBufferPointer { lk_maxpool2d_parallel(&win, $0.baseAddress!, dst.baseAddress!, &winners) }
    }
    return Variable(y, parents: [self]) { g in
      let plane = x.shape[2] * x.shape[3]
      let outPlane = outShape[2] * outShape[3]
      return [
        Tensor<Float>(repeating: 0, shape: x.shape).withScatter { dx in
          g.withUnsafeBufferPointer { gp in
            for i in 0..<gp.count where winners[i] >= 0 {
              dx[(i / outPlane) * plane + Int(winners[i])] += gp[i]
            }
          }
        }
      ]
    }
  }

  /// Average pooling over NCHW.
  public func avgPool2d(_ geometry: WindowGeometry, countIncludePad: Bool = false) -> Variable {
    let x = value.contiguous()
    var win = geometry.window(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3])
    let include: Int32 = countIncludePad ? 1 : 0
    let y = Tensor<Float>(shape: [x.shape[0], x.shape[1], Int(win.out_h), Int(win.out_w)]) { dst in
      x.withUnsafeBufferPointer { lk_avgpool2d(&win, $0.baseAddress!, dst.baseAddress!, include) }
    }
    return Variable(y, parents: [self]) { g in
      [
        Tensor<Float>(repeating: 0, shape: x.shape).withScatter { dx in
          g.withUnsafeBufferPointer { lk_avgpool2d_backward(&win, $0.baseAddress!, dx.baseAddress!, include) }
        }
      ]
    }
  }

  /// Mean over each channel's plane: [N, C, H, W] -> [N, C, 1, 1].
  public func globalAvgPool2d() -> Variable { mean(axes: [2, 3], keepingDimensions: true) }
}

extension Tensor where Scalar == Float {
  /// This tensor after `body` wrote into its elements (for gradients built by scattering).
  func withScatter(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
    var copy = self
    copy.withUnsafeMutableBufferPointer(body)
    return copy
  }
}
