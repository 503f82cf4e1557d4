extension GGMLCodec {
  /// Q4_K, ggml's 4-bit K-quant: a super-block of 256 elements in 8 sub-blocks of 32, each
  /// x ≈ d·sc·q − dmin·m with q in 0...15 and a 6-bit scale sc and min m per sub-block.
  ///
  /// Layout (144 bytes): fp16 d, fp16 dmin, 12 bytes packing the 8 scales and 8 mins
  /// (sub-blocks 0–3 in the low 6 bits of bytes 0–3 and 4–7; 4–7 in the nibbles of bytes 8–11
  /// with their top 2 bits in the top bits of bytes 0–7), then 128 bytes of nibbles: byte l of
  /// each 32-byte group g holds sub-block 2g's element l low and sub-block 2g+1's high.
  ///
  /// The encoder follows `quantize_row_q4_K_ref` step for step, in Float and in the same order
  /// of operations, so that its bytes match ggml's (checked against them in the tests).
  enum Q4K {
    static func encode(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<UInt8>) {
      var levels = [UInt8](repeating: 0, count: 256)
      var scales = [Float](repeating: 0, count: 8)
      var mins = [Float](repeating: 0, count: 8)
      var maxScale: Float = 0
      var maxMin: Float = 0
      for j in 0..<8 {
        let sub = UnsafeBufferPointer(rebasing: x[(32 * j)..<(32 * j + 32)])
        var sumX2: Float = 0
        for v in sub { sumX2 += v * v }
        let average = (sumX2 / 32).squareRoot()
        // Weights favour the large elements of the sub-block.
        let weights = sub.map { average + abs($0) }
        let fit = fitScaleAndMin(sub, weights: weights)
        for l in 0..<32 { levels[32 * j + l] = fit.levels[l] }
        scales[j] = fit.scale
        mins[j] = fit.min
        if fit.scale > maxScale { maxScale = fit.scale }
        if fit.min > maxMin { maxMin = fit.min }
      }

      let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
      let inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
      var packed = [UInt8](repeating: 0, count: 12)
      for j in 0..<8 {
        // As in C: the int truncated to uint8_t, then capped at 63.
        let ls = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(inverseScale * scales[j])))
        let lm = Swift.min(63, UInt8(truncatingIfNeeded: nearestInt(inverseMin * mins[j])))
        if j < 4 {
          packed[j] = ls
          packed[j + 4] = lm
        } else {
          packed[j + 4] = (ls & 0xf) | (lm & 0xf) << 4
          packed[j - 4] |= (ls >> 4) << 6
          packed[j] |= (lm >> 4) << 6
        }
      }
      let dBits = HalfFloat.bits(maxScale / 63)
      let dminBits = HalfFloat.bits(maxMin / 63)
      storeLittleEndian(dBits, y, at: 0)
      storeLittleEndian(dminBits, y, at: 2)
      for i in 0..<12 { y[4 + i] = packed[i] }

      // Levels again, against the scales and mins as stored (6-bit and fp16), not as fitted.
      for j in 0..<8 {
        let (sc, m) = scaleAndMin(j, packed)
        let d = HalfFloat.value(dBits) * Float(sc)
        if d == 0 { continue }
        let dm = HalfFloat.value(dminBits) * Float(m)
        for l in 0..<32 {
          levels[32 * j + l] = UInt8(Swift.max(0, Swift.min(15, nearestInt((x[32 * j + l] + dm) / d))))
        }
      }
      for group in 0..<4 {
        for l in 0..<32 {
          y[16 + 32 * group + l] = levels[64 * group + l] | levels[64 * group + 32 + l] << 4
        }
      }
    }

    static func decode(_ x: UnsafeRawBufferPointer, _ y: UnsafeMutableBufferPointer<Float>) {
      let d = HalfFloat.value(x.loadUnaligned(fromByteOffset: 0, as: UInt16.self).littleEndian)
      let dmin = HalfFloat.value(x.loadUnaligned(fromByteOffset: 2, as: UInt16.self).littleEndian)
      let packed = Array(x[4..<16])
      for group in 0..<4 {
        let (sc1, m1) = scaleAndMin(2 * group, packed)
        let (sc2, m2) = scaleAndMin(2 * group + 1, packed)
        let d1 = d * Float(sc1)
        let min1 = dmin * Float(m1)
        let d2 = d * Float(sc2)
        let min2 = dmin * Float(m2)
        for l in 0..<32 {
          let q = x[16 + 32 * group + l]
          y[64 * group + l] = d1 * Float(q & 0xf) - min1
          y[64 * group + 32 + l] = d2 * Float(q >> 4) - min2
        }
      }
    }

    /// Sub-block j's 6-bit scale and min from the 12 packed bytes (`get_scale_min_k4`).
    static func scaleAndMin(_ j: Int, _ q: [UInt8]) -> (scale: UInt8, min: UInt8) {
      if j < 4 { return (q[j] & 63, q[j + 4] & 63) }
      return ((q[j + 4] & 0xf) | (q[j - 4] >> 6) << 4, (q[j + 4] >> 4) | (q[j] >> 6) << 4)
    }

    /// ggml's `nearest_int`: round half to even (it adds 1.5·2²³ and reads the low bits, which
    /// is exact for |x| < 2²²). Clamped, and 0 for NaN, where C would be undefined.
    static func nearestInt(_ value: Float) -> Int {
      guard !value.isNaN else { return 0 }
      return Int(Swift.max(-4_194_303, Swift.min(4_194_303, value)).rounded(.toNearestOrEven))
    }

    /// `make_qkx2_quants(32, 15, x, weights, L, &the_min, Laux, -1, 0.1, 20, false)`: levels 0...15
    /// with x ≈ scale·L − min, min ≥ 0, chosen by a weighted least-squares fit over 21 trial
    /// scales around the range's (the first trial's error is what later ones must beat).
    static func fitScaleAndMin(_ x: UnsafeBufferPointer<Float>, weights: [Float])
      -> (scale: Float, min: Float, levels: [UInt8])
    {
      let n = x.count
      let nmax = 15
      let rmin: Float = -1
      let rdelta: Float = 0.1
      let steps = 20
      var levels = [UInt8](repeating: 0, count: n)
      var trial = [UInt8](repeating: 0, count: n)
      var min = x[0]
      var max = x[0]
      var sumW = weights[0]
      var sumX = sumW * x[0]
      for i in 1..<n {
        if x[i] < min { min = x[i] }
        if x[i] > max { max = x[i] }
        let w = weights[i]
        sumW += w
        sumX += w * x[i]
      }
      if min > 0 { min = 0 }
      if max == min { return (0, -min, levels) }
      var iscale = Float(nmax) / (max - min)
      var scale = 1 / iscale
      var bestError: Float = 0
      for i in 0..<n {
        let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
        levels[i] = UInt8(l)
        let diff = scale * Float(l) + min - x[i]
        bestError += weights[i] * (diff * diff)
      }
      for step in 0...steps {
        iscale = (rmin + rdelta * Float(step) + Float(nmax)) / (max - min)
        var sumL: Float = 0
        var sumL2: Float = 0
        var sumXL: Float = 0
        for i in 0..<n {
          let l = Swift.max(0, Swift.min(nmax, nearestInt(iscale * (x[i] - min))))
          trial[i] = UInt8(l)
          let w = weights[i]
          let fl = Float(l)
          sumL += w * fl
          sumL2 += w * fl * fl
          sumXL += w * fl * x[i]
        }
        let determinant = sumW * sumL2 - sumL * sumL
        guard determinant > 0 else { continue }
        var thisScale = (sumW * sumXL - sumX * sumL) / determinant
        var thisMin = (sumL2 * sumX - sumL * sumXL) / determinant
        if thisMin > 0 {
          thisMin = 0
          thisScale = sumXL / sumL2
        }
        var error: Float = 0
        for i in 0..<n {
          let diff = thisScale * Float(trial[i]) + thisMin - x[i]
          error += weights[i] * (diff * diff)
        }
        if error < bestError {
          levels = trial
          bestError = error
          scale = thisScale
          min = thisMin
        }
      }
      return (scale, -min, levels)
    }
  }
}
