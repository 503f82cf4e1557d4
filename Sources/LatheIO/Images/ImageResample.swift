/// Resizing and centre cropping as torchvision's `Resize(shorter side)` then `CenterCrop`
/// do on PIL images: a separable triangle (bilinear) filter widened by the scale when
/// shrinking, so downscaled photos are averaged rather than aliased.
enum ImageResample {
  /// The size after scaling the shorter side to `shorter` (the longer side truncated, as
  /// torchvision does), or the size itself when `shorter` is 0.
  static func resizedSize(width: Int, height: Int, shorter: Int) -> (width: Int, height: Int) {
    guard shorter > 0 else { return (width, height) }
    return width <= height
      ? (shorter, max(1, shorter * height / width)) : (max(1, shorter * width / height), shorter)
  }

  /// The crop window's origin: centred, rounded as torchvision's `int(round((h - ch) / 2))`.
  static func cropOrigin(size: Int, crop: Int) -> Int { Int((Double(size - crop) / 2).rounded(.toNearestOrEven)) }

  /// For each output index in `range` of an axis scaled from `inSize` to `outSize`: the first
  /// input index it reads and the weights of that and the following ones.
  static func taps(inSize: Int, outSize: Int, range: Range<Int>) -> [(start: Int, weights: [Float])] {
    let scale = Double(inSize) / Double(outSize)
    let support = max(scale, 1)
    return range.map { o in
      let center = (Double(o) + 0.5) * scale
      let low = max(0, Int((center - support).rounded(.down)))
      let high = min(inSize, Int((center + support).rounded(.up)))
      var weights = (low..<high).map { i in Float(max(0, 1 - abs((Double(i) + 0.5 - center) / support))) }
      let sum = weights.reduce(0, +)
      guard sum > 0 else { return (min(max(0, Int(center)), inSize - 1), [1]) }
      for i in weights.indices { weights[i] /= sum }
      return (low, weights)
    }
  }

  /// `image` resized (shorter side to `shorter`, 0 keeps the size) and centre-cropped to
  /// `cropHeight` x `cropWidth`, as planar fp32 [C, H, W] in 0...255.
  static func planar(_ image: DecodedImage, shorter: Int, cropHeight: Int, cropWidth: Int) -> [Float] {
    let (width, height) = resizedSize(width: image.width, height: image.height, shorter: shorter)
    let left = cropOrigin(size: width, crop: cropWidth)
    let top = cropOrigin(size: height, crop: cropHeight)
    let columns = taps(inSize: image.width, outSize: width, range: left..<(left + cropWidth))
    let rows = taps(inSize: image.height, outSize: height, range: top..<(top + cropHeight))
    let c = image.channels
    // Horizontal pass over every input row: [C, inH, cropW].
    var across = [Float](repeating: 0, count: c * image.height * cropWidth)
    image.pixels.withUnsafeBufferPointer { pixels in
      for y in 0..<image.height {
        for (x, tap) in columns.enumerated() {
          for channel in 0..<c {
            var sum: Float = 0
            for (k, weight) in tap.weights.enumerated() {
              sum += weight * Float(pixels[(y * image.width + tap.start + k) * c + channel])
            }
            across[(channel * image.height + y) * cropWidth + x] = sum
          }
        }
      }
    }
    // Vertical pass: [C, cropH, cropW].
    var result = [Float](repeating: 0, count: c * cropHeight * cropWidth)
    for channel in 0..<c {
      for (y, tap) in rows.enumerated() {
        for x in 0..<cropWidth {
          var sum: Float = 0
          for (k, weight) in tap.weights.enumerated() {
            sum += weight * across[(channel * image.height + tap.start + k) * cropWidth + x]
          }
          result[(channel * cropHeight + y) * cropWidth + x] = sum
        }
      }
    }
    return result
  }
}
