import Foundation
import LatheTensor

/// Kernel, strides, pads and dilations of a convolution or pooling window over any number of
/// spatial axes (ONNX's attributes, auto_pad resolved). Pads are ONNX's order: every axis's
/// begin, then every axis's end.
struct WindowND: Equatable, Sendable {
  var kernel: [Int]
  var stride: [Int]
  var pads: [Int]
  var dilation: [Int]
  var ceilMode = false

  var spatial: Int { kernel.count }

  /// Output size of each spatial axis for input sizes `sizes` (ONNX's rule: a ceil-mode window
  /// must start inside the input or its begin padding).
  func outputSizes(_ sizes: [Int]) -> [Int] {
    (0..<spatial).map { d in
      let span = sizes[d] + pads[d] + pads[d + spatial] - dilation[d] * (kernel[d] - 1) - 1
      guard span >= 0 else { return 0 }
      var out = (ceilMode ? (span + stride[d] - 1) / stride[d] : span / stride[d]) + 1
      if ceilMode && (out - 1) * stride[d] >= sizes[d] + pads[d] { out -= 1 }
      return out
    }
  }

  /// The window as seen by the 2-D engine: a 1-D window gets a leading unit axis.
  var planar: WindowGeometry {
    let lifted = spatial == 1 ? lifted() : self
    return WindowGeometry(
      kernel: lifted.kernel, stride: lifted.stride, padding: lifted.pads, dilation: lifted.dilation,
      ceilMode: ceilMode)
  }

  /// A 1-D window as a 2-D one over a height-1 image.
  func lifted() -> WindowND {
    WindowND(
      kernel: [1] + kernel, stride: [1] + stride, pads: [0, pads[0], 0, pads[1]], dilation: [1] + dilation,
      ceilMode: ceilMode)
  }

  /// For input [N, C, sizes...]: the flat input index each (n, c, output position, kernel
  /// offset) reads, row-major over [N, C, outputs..., kernel...], or -1 in the padding.
  /// `inside` tells, per (output position, kernel offset), whether the offset lies within the
  /// padded extent (for count_include_pad).
  func patches(batch: Int, channels: Int, sizes: [Int]) -> (map: [Int], inside: [Bool]) {
    let outputs = outputSizes(sizes)
    let (positions, offsets) = (outputs.reduce(1, *), kernel.reduce(1, *))
    let plane = sizes.reduce(1, *)
    var local = [Int](repeating: -1, count: positions * offsets)
    var inside = [Bool](repeating: false, count: positions * offsets)
    let strides = Tensor<Float>.rowMajorStrides(sizes)
    var out = [Int](repeating: 0, count: spatial)
    var k = [Int](repeating: 0, count: spatial)
    for p in 0..<positions {
      var rest = p
      for d in (0..<spatial).reversed() {
        out[d] = rest % outputs[d]
        rest /= outputs[d]
      }
      for o in 0..<offsets {
        var rest = o
        for d in (0..<spatial).reversed() {
          k[d] = rest % kernel[d]
          rest /= kernel[d]
        }
        var flat = 0
        var valid = true
        var padded = true
        for d in 0..<spatial {
          let i = out[d] * stride[d] - pads[d] + k[d] * dilation[d]
          if i < 0 || i >= sizes[d] { valid = false }
          if i < -pads[d] || i >= sizes[d] + pads[d + spatial] { padded = false }
          flat += i * strides[d]
        }
        local[p * offsets + o] = valid ? flat : -1
        inside[p * offsets + o] = padded
      }
    }
    var map = [Int](repeating: -1, count: batch * channels * local.count)
    for plate in 0..<(batch * channels) {
      let base = plate * plane
      for (j, i) in local.enumerated() where i >= 0 { map[plate * local.count + j] = base + i }
    }
    return (map, inside)
  }
}

extension Variable {
  /// Convolution over [N, C, spatial...] with weight [O, C/groups, kernel...]. One and two
  /// spatial axes run on the engine's conv2d; more gather patches and multiply per group.
  func convolution(
    weight: Variable, bias: Variable?, window: WindowND, groups: Int
  ) -> Variable {
    switch window.spatial {
    case 2:
      return conv2d(
        weight: weight, bias: bias, stride: window.stride, padding: window.pads, dilation: window.dilation,
        groups: groups)
    case 1:
      let (n, c, w) = (shape[0], shape[1], shape[2])
      let lifted = window.lifted()
      let kernel = weight.reshaped([weight.shape[0], weight.shape[1], 1, weight.shape[2]])
      let y = reshaped([n, c, 1, w]).conv2d(
        weight: kernel, bias: bias, stride: lifted.stride, padding: lifted.pads, dilation: lifted.dilation,
        groups: groups)
      return y.reshaped([y.shape[0], y.shape[1], y.shape[3]])
    default:
      return patchConvolution(weight: weight, bias: bias, window: window, groups: groups)
    }
  }

  /// Convolution by gathering every window's patch ([N·P, C·K]) and one product per group.
  private func patchConvolution(weight: Variable, bias: Variable?, window: WindowND, groups: Int) -> Variable {
    let (n, c) = (shape[0], shape[1])
    let sizes = Array(shape.dropFirst(2))
    let outputs = window.outputSizes(sizes)
    let (positions, offsets) = (outputs.reduce(1, *), window.kernel.reduce(1, *))
    let (map, _) = window.patches(batch: n, channels: c, sizes: sizes)
    // [N, C, P, K] -> [N, P, C, K] -> rows of C·K per output position.
    let patches = gathered(map, shape: [n, c, positions, offsets]).permuted([0, 2, 1, 3])
      .reshaped([n * positions, c * offsets])
    let (outChannels, perGroup) = (weight.shape[0], c / groups)
    let flatWeight = weight.reshaped([outChannels, perGroup * offsets])
    let outPerGroup = outChannels / groups
    var parts: [Variable] = []
    for g in 0..<groups {
      let columns = patches.sliced(axis: 1, (g * perGroup * offsets)..<((g + 1) * perGroup * offsets))
      let rows = flatWeight.sliced(axis: 0, (g * outPerGroup)..<((g + 1) * outPerGroup))
      parts.append(columns.linear(weight: rows, bias: nil))
    }
    var y = groups == 1 ? parts[0] : Variable.concatenate(parts, axis: 1)
    if let bias { y = y + bias.reshaped([1, outChannels]) }
    return y.reshaped([n, positions, outChannels]).permuted([0, 2, 1]).reshaped([n, outChannels] + outputs)
  }
}
