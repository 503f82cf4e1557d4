import CKernels
import Dispatch
import LatheCompress
import LatheTensor

/// Times the int8 and sparse kernels against the fp32 GEMM on the shapes Lathe cares about
/// (LeNet-300-100's first layer, batch 1 and 256, a square 1024), on every instruction-set
/// path this CPU supports. `lathe bench` prints the results.
public enum KernelBenchmark {
  public struct Result: Sendable, CustomStringConvertible {
    /// What ran, e.g. "qgemm 256x300x784".
    public var name: String
    /// The kernel path ("avx512-vnni", "fp32 openblas-SkylakeX", ...).
    public var path: String
    public var threads: Int
    /// Median seconds per call.
    public var seconds: Double
    /// Billions of multiply-adds × 2 per second (dense work, even for sparse kernels), when
    /// meaningful.
    public var gops: Double?

    public var description: String {
      let time = seconds < 1e-3 ? "\(format(seconds * 1e6, 1)) us" : "\(format(seconds * 1e3, 3)) ms"
      let rate = gops.map { ", \(format($0, 1)) GOP/s" } ?? ""
      return "\(name) [\(path), \(threads) thread\(threads == 1 ? "" : "s")]: \(time)\(rate)"
    }
  }

  /// Runs every measurement; `quick` shortens each (for tests and a first look).
  public static func run(quick: Bool) -> [Result] {
    let budget = quick ? 0.02 : 0.25
    var results: [Result] = []
    var rng = SeededGenerator(seed: 42)
    let shapes = quick ? [(256, 300, 784), (1, 300, 784)] : [(256, 300, 784), (1, 300, 784), (1024, 1024, 1024)]
    let paths = (0..<Int32(LK_ISA_COUNT)).filter { lk_isa_supported($0) != 0 }
    let blas = "fp32 " + String(cString: lk_sgemm_backend())
    defer { _ = lk_isa_force(-1) }

    for (m, n, k) in shapes {
      let work = 2 * Double(m) * Double(n) * Double(k)
      let a = (0..<(m * k)).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let w = (0..<(n * k)).map { _ in Int8.random(in: -127...127, using: &rng) }
      var packed = [UInt8](repeating: 0, count: lk_qgemm_pack_size(Int32(n), Int32(k)))
      packed.withUnsafeMutableBytes { lk_qgemm_pack(w, Int32(n), Int32(k), $0.baseAddress!) }
      let scales = [Float](repeating: 0.01, count: n)
      let bias = [Float](repeating: 0.1, count: n)
      var y = [Float](repeating: 0, count: m * n)
      let threadCounts = m >= 64 ? Array(Set([1, Parallel.coreCount])).sorted() : [1]
      for isa in paths where !(quick && isa == LK_ISA_PORTABLE && m > 1) {
        _ = lk_isa_force(isa)
        // The portable path is slow; a shorter budget keeps the benchmark bearable. On the best
        // path the multi-threaded split also runs through GCD's concurrentPerform, whose parked
        // threads take tens of microseconds to wake on a VM: what Lathe's spinning pool avoids.
        let splitters: [(threads: Int, gcd: Bool)] =
          threadCounts.map { ($0, false) }
          + (isa == lk_isa_best() && threadCounts.count > 1 ? [(Parallel.coreCount, true)] : [])
        for (threads, gcd) in splitters {
          let seconds = time(budget: budget) {
            scales.withUnsafeBufferPointer { s in
              bias.withUnsafeBufferPointer { b in
                var out = lk_qoutput(
                  a_zero_point: 3, a_scale: 0.02, w_scale: s.baseAddress, bias: b.baseAddress, relu: 1, out_scale: 1,
                  out_zero_point: 0)
                y.withUnsafeMutableBufferPointer { yp in
                  let yBase = UncheckedPointer(yp.baseAddress!)
                  splitRows(m, threads, gcd: gcd) { m0, m1 in
                    lk_qgemm_f32(
                      Int32(m1 - m0), Int32(n), Int32(k), a.withUnsafeBufferPointer { $0.baseAddress! + m0 * k },
                      Int32(k), packed, &out, yBase.pointer + m0 * n, Int32(n))
                  }
                }
              }
            }
          }
          results.append(
            Result(
              name: "qgemm u8·s8→f32 \(m)x\(n)x\(k)" + (gcd ? " split by GCD instead of the pool" : ""),
              path: String(cString: lk_isa_name(isa)), threads: threads, seconds: seconds, gops: work / seconds / 1e9))
        }
      }
      // fp32 on the same shape: y = x·Wᵀ through the BLAS, split over the pool by lk_sgemm.
      let xf = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
      let wf = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
      for threads in threadCounts {
        lk_set_num_threads(Int32(threads))
        let seconds = time(budget: budget) {
          lk_sgemm(0, 1, Int32(m), Int32(n), Int32(k), 1, xf, Int32(k), wf, Int32(k), 0, &y, Int32(n))
        }
        results.append(
          Result(
            name: "sgemm f32 \(m)x\(n)x\(k)", path: blas, threads: threads, seconds: seconds,
            gops: work / seconds / 1e9))
      }
      lk_set_num_threads(Int32(Parallel.coreCount))
    }

    results += sparse(budget: budget, quick: quick, paths: paths, rng: &rng)
    results += convolutions(budget: budget, rng: &rng)
    results += packedProducts(budget: budget, quick: quick, paths: paths, rng: &rng)
    return results
  }

  /// A transformer's projections (384→384 and 384→1536, MiniLM's) at the row counts of short
  /// sentences and small batches, one thread: the weight packed once (`lk_sgemm_packed`, on
  /// each ISA path) against the BLAS, which packs it on every call. `lk_sgemm_packed_pays`
  /// comes from where the two cross.
  static func packedProducts(budget: Double, quick: Bool, paths: [Int32], rng: inout SeededGenerator) -> [Result] {
    var results: [Result] = []
    let blas = "fp32 " + String(cString: lk_sgemm_backend())
    let rowCounts = quick ? [1, 9, 64] : [1, 4, 9, 32, 64, 128, 256]
    lk_set_num_threads(1)
    defer {
      lk_set_num_threads(Int32(Parallel.coreCount))
      _ = lk_isa_force(-1)
    }
    for (n, k) in [(384, 384), (1536, 384)] {
      let w = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
      var packed = [Float](repeating: 0, count: lk_sgemm_packed_floats(Int32(n), Int32(k)))
      lk_sgemm_pack(Int32(n), Int32(k), w, &packed)
      for m in rowCounts {
        let x = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        var y = [Float](repeating: 0, count: m * n)
        let work = 2 * Double(m * n * k)
        let blasSeconds = time(budget: budget) {
          lk_sgemm(0, 1, Int32(m), Int32(n), Int32(k), 1, x, Int32(k), w, Int32(k), 0, &y, Int32(n))
        }
        results.append(
          Result(
            name: "linear f32 \(m)x\(n)x\(k) (weight packed per call)", path: blas, threads: 1, seconds: blasSeconds,
            gops: work / blasSeconds / 1e9))
        for isa in paths where !(quick && isa != lk_isa_best()) {
          _ = lk_isa_force(isa)
          let seconds = time(budget: budget) {
            lk_sgemm_packed(Int32(m), Int32(n), Int32(k), x, Int32(k), packed, nil, &y, Int32(n))
          }
          results.append(
            Result(
              name: "linear f32 \(m)x\(n)x\(k) packed once (\(format(blasSeconds / seconds, 2))x BLAS)",
              path: String(cString: lk_isa_name(isa)), threads: 1, seconds: seconds, gops: work / seconds / 1e9))
        }
      }
    }
    return results
  }

  /// `lathe bench --only sparse24`: a 2:4 semi-structured Linear (`SemiStructuredLinear`,
  /// lk_sp24_gemm) against Lathe's dense `Linear` on the same masked weight, as layers run them
  /// (the dense one through its weight packed once), on a transformer's projection shapes at
  /// batch 1 and 8, one thread, on every kernel path this CPU has; each pair timed in the same
  /// run, interleaved by shape.
  public static func sparse24(quick: Bool) -> [Result] {
    let budget = quick ? 0.02 : 0.25
    var results: [Result] = []
    var rng = SeededGenerator(seed: 24)
    let paths = (0..<Int32(LK_ISA_COUNT)).filter { lk_isa_supported($0) != 0 }
    lk_set_num_threads(1)
    defer {
      lk_set_num_threads(Int32(Parallel.coreCount))
      _ = lk_isa_force(-1)
    }
    // out x in: the bundled char-gpt's MLP (128 ↔ 512, its largest matrices), a 4x MLP of
    // hidden 256 both ways, MiniLM's 384 ↔ 1536, and a square 384.
    let shapes =
      quick
      ? [(1024, 256)] : [(512, 128), (128, 512), (1024, 256), (256, 1024), (1536, 384), (384, 1536), (384, 384)]
    for (n, k) in shapes {
      let dense = Linear(inputs: k, outputs: n, generator: &rng)
      let w = dense.weight.value.scalars
      var mask = [Float](repeating: 0, count: w.count)
      for b in stride(from: 0, to: w.count, by: 4) {
        let order = (b..<(b + 4)).sorted { abs(w[$0]) > abs(w[$1]) }
        mask[order[0]] = 1
        mask[order[1]] = 1
      }
      dense.weight.mask = Tensor(shape: [n, k], scalars: mask)
      dense.weight.applyMask()
      let sparse = SemiStructuredLinear(
        weights: SemiStructuredWeights(weight: dense.weight.value, mask: dense.weight.mask!)!,
        bias: dense.bias?.value)
      for batch in quick ? [1] : [1, 8] {
        let x = Variable(.uniform([batch, k], low: -1, high: 1, generator: &rng))
        let work = 2 * Double(batch * n * k)
        for isa in paths where !(quick && isa != lk_isa_best()) {
          _ = lk_isa_force(isa)
          var context = ForwardContext.inference
          let (denseSeconds, sparseSeconds) = GradientRecording.disabled {
            (
              time(budget: budget) { _ = dense.forward([x], context: &context) },
              time(budget: budget) { _ = sparse.forward([x], context: &context) }
            )
          }
          let path = String(cString: lk_isa_name(isa))
          let shape = "\(batch)x\(n)x\(k)"
          results.append(
            Result(
              name: "sparse24-b\(batch) Linear f32 dense \(shape)", path: path, threads: 1, seconds: denseSeconds,
              gops: work / denseSeconds / 1e9))
          results.append(
            Result(
              name: "sparse24-b\(batch) Linear 2:4 \(shape) (\(format(denseSeconds / sparseSeconds, 2))x dense)",
              path: path, threads: 1, seconds: sparseSeconds, gops: work / sparseSeconds / 1e9))
        }
      }
    }
    return results
  }

  /// 784→300 at several sparsities, batch 1 and 256, against the dense BLAS product.
  static func sparse(budget: Double, quick: Bool, paths: [Int32], rng: inout SeededGenerator) -> [Result] {
    var results: [Result] = []
    let (rows, cols) = (300, 784)
    let blas = "fp32 " + String(cString: lk_sgemm_backend())
    for batch in [1, 256] {
      let x = (0..<(batch * cols)).map { _ in Float.random(in: -1...1, using: &rng) }
      var y = [Float](repeating: 0, count: batch * rows)
      let dense = (0..<(rows * cols)).map { _ in Float.random(in: -1...1, using: &rng) }
      let bias = [Float](repeating: 0, count: rows)
      let work = 2 * Double(batch * rows * cols)
      lk_set_num_threads(1)
      let denseSeconds = time(budget: budget) {
        lk_sgemm(
          0, 1, Int32(batch), Int32(rows), Int32(cols), 1, x, Int32(cols), dense, Int32(cols), 0, &y, Int32(rows))
      }
      lk_set_num_threads(Int32(Parallel.coreCount))
      results.append(
        Result(
          name: "dense f32 \(cols)→\(rows) batch \(batch)", path: blas, threads: 1, seconds: denseSeconds,
          gops: work / denseSeconds / 1e9))
      for sparsity in [0.5, 0.8, 0.9, 0.95] {
        let w = dense.map { _ in Double.random(in: 0..<1, using: &rng) < sparsity ? Float(0) : Float(1) }
          .enumerated().map { $0.element * dense[$0.offset] }
        var rowPtr = [Int32](repeating: 0, count: rows + 1)
        let nnz = lk_csr_from_dense(w, Int32(rows), Int32(cols), &rowPtr, nil, nil)
        var colIdx = [Int32](repeating: 0, count: nnz)
        var values = [Float](repeating: 0, count: nnz)
        _ = lk_csr_from_dense(w, Int32(rows), Int32(cols), &rowPtr, &colIdx, &values)
        var scratch = [Float](repeating: 0, count: lk_spmm_scratch_size(Int32(rows), Int32(cols)))
        for isa in paths where !(quick && isa != lk_isa_best()) {
          _ = lk_isa_force(isa)
          // Batch 1 has two layouts (CSR with gathers, and sliced without, built for this path's
          // block width); batches use CSR.
          var kernels: [(name: String, run: () -> Void)] = [
            (
              "sparse",
              {
                if batch == 1 {
                  lk_spmv(Int32(rows), Int32(cols), rowPtr, colIdx, values, x, bias, &y)
                } else {
                  lk_spmm(Int32(batch), Int32(rows), Int32(cols), rowPtr, colIdx, values, x, bias, &y, &scratch)
                }
              }
            )
          ]
          if batch == 1 {
            let sliced = SlicedSparseRows(rows: rows, cols: cols, rowPointers: rowPtr, columns: colIdx, values: values)
            kernels.append(("sliced", { sliced.product(x, bias: bias, relu: false, into: &y) }))
          }
          for kernel in kernels {
            let seconds = time(budget: budget, kernel.run)
            results.append(
              Result(
                name: "\(kernel.name) f32 \(cols)→\(rows) batch \(batch) \(Int(sparsity * 100))% zeros "
                  + "(\(format(denseSeconds / seconds, 2))x dense)",
                path: String(cString: lk_isa_name(isa)), threads: 1, seconds: seconds, gops: work / seconds / 1e9))
          }
        }
        _ = lk_isa_force(-1)
      }
    }
    return results
  }

  /// LeNet-5's two convolutions at batch 256, run as the layers run them (the whole batch,
  /// images spread over the cores): fp32 Conv2d then ReLU against QuantizedConv2d (input
  /// quantization included, ReLU folded) with each int8 method, on the best path.
  static func convolutions(budget: Double, rng: inout SeededGenerator) -> [Result] {
    var results: [Result] = []
    let batch = 256
    let layers = [
      (name: "LeNet-5 conv1 1→6 5x5 pad 2 28x28", channels: 1, size: 28, out: 6, pad: 2),
      (name: "LeNet-5 conv2 6→16 5x5 14x14", channels: 6, size: 14, out: 16, pad: 0),
    ]
    let threads = min(Parallel.coreCount, batch)
    defer { _ = lk_qconv2d_force(-1) }
    for layer in layers {
      let x = Variable(.uniform([batch, layer.channels, layer.size, layer.size], low: 0, high: 1, generator: &rng))
      let conv = Conv2d(
        inChannels: layer.channels, outChannels: layer.out, kernel: 5, padding: layer.pad, generator: &rng)
      let outSize = layer.size + 2 * layer.pad - 4
      let work = 2 * Double(batch * layer.out * outSize * outSize * layer.channels * 25)
      var context = ForwardContext.inference
      let fp32 = time(budget: budget) { _ = conv.forward([x], context: &context).relu() }
      results.append(
        Result(
          name: "\(layer.name) batch \(batch) conv+relu", path: "fp32 im2col+" + String(cString: lk_sgemm_backend()),
          threads: threads, seconds: fp32, gops: work / fp32 / 1e9))
      let quantized = QuantizedConv2d(
        weights: QuantizedWeights(quantizing: conv.weight.value, granularity: .perChannel), bias: conv.bias?.value,
        input: .fixed(.unsigned(low: 0, high: 1, symmetric: false)), relu: true, inChannels: layer.channels,
        kernelSize: [5, 5], stride: [1, 1], padding: Array(repeating: layer.pad, count: 4), dilation: [1, 1])
      for (method, label) in [(LK_QCONV_COLUMNS, "columns"), (LK_QCONV_ROWS, "im2row")] {
        _ = lk_qconv2d_force(Int32(method))
        let seconds = time(budget: budget) { _ = quantized.forward([x], context: &context) }
        results.append(
          Result(
            name: "\(layer.name) batch \(batch) int8 \(label) (\(format(fp32 / seconds, 2))x fp32)",
            path: String(cString: lk_isa_name(lk_isa_best())), threads: threads, seconds: seconds,
            gops: work / seconds / 1e9))
      }
    }
    return results
  }

  /// Calls body(m0, m1) on `workers` disjoint row blocks (multiples of 8 rows) concurrently.
  static func splitRows(_ m: Int, _ workers: Int, gcd: Bool = false, _ body: (Int, Int) -> Void) {
    let block = ((m + workers - 1) / workers + 7) / 8 * 8
    let count = (m + block - 1) / block
    let part = { (worker: Int) in body(worker * block, min(m, (worker + 1) * block)) }
    guard gcd else { return Parallel.forEach(count, part) }
    withoutActuallyEscaping(part) { part in
      let shared = UncheckedSendable(part)
      DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
    }
  }

  /// Median seconds per call over repeated runs filling about `budget` seconds.
  static func time(budget: Double, _ body: () -> Void) -> Double {
    body()  // warm caches and lazy initialisation
    var samples: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    repeat {
      let t0 = DispatchTime.now().uptimeNanoseconds
      body()
      samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    } while Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < budget && samples.count < 100_000
    samples.sort()
    return samples[samples.count / 2]
  }
}

/// A raw pointer the row blocks share; each writes only its own rows.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}

struct UncheckedPointer<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

private func format(_ x: Double, _ digits: Int) -> String {
  var p = 1.0
  for _ in 0..<digits { p *= 10 }
  let r = (x * p).rounded() / p
  return "\(r)"
}
