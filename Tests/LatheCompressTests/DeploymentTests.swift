import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

final class DeploymentTests: XCTestCase {
  /// A [24, 50] weight with a 6-value codebook, mostly zero, with gaps longer than 255 (fillers).
  func sharedSparseWeight() -> (Tensor<Float>, WeightCodebook) {
    let centroids: [Float] = [-0.8, -0.3, -0.05, 0.1, 0.4, 0.9]
    var g = SeededGenerator(seed: 12)
    var assignments = [UInt16](repeating: WeightCodebook.pruned, count: 1200)
    for i in 0..<1200 where (i < 100 && i % 3 == 0) || (i > 700 && i % 11 == 0) || i == 1199 {
      assignments[i] = UInt16(g.next() % 6)
    }
    let codebook = WeightCodebook(centroids: centroids, assignments: assignments)
    return (codebook.weights(shape: [24, 50]), codebook)
  }

  func stored(_ weights: EncodedWeights) -> [String: AnyTensor] {
    Dictionary(uniqueKeysWithValues: weights.storedTensors(prefix: "weight.").map { ($0.name, $0.tensor) })
  }

  func restore(_ tensors: [String: AnyTensor], _ encoding: EncodedWeights.Encoding) throws -> EncodedWeights {
    try EncodedWeights.restore(from: tensors, prefix: "weight.", shape: [24, 50], encoding: encoding, node: "fc")
  }

  func testEveryEncodingRoundTripsExactly() throws {
    let (dense, codebook) = sharedSparseWeight()
    let positions = dense.scalars.indices.filter { dense.scalars[$0] != 0 }
    XCTAssertTrue(zip(positions, positions.dropFirst()).contains { $1 - $0 > 255 }, "the test needs a long gap")
    for encoding in [EncodedWeights.Encoding.csr, .codebook, .huffman] {
      let weights = EncodedWeights(dense, codebook: codebook, encoding: encoding)
      XCTAssertEqual(weights.encoding, encoding)
      let back = try restore(stored(weights), encoding)
      XCTAssertEqual(back.dense(), dense, "\(encoding)")
      XCTAssertEqual(back.positions, positions, "\(encoding)")
      if encoding != .csr {
        XCTAssertEqual(back.codebook, codebook.centroids)
        XCTAssertEqual(back.valueIndices, positions.map { codebook.assignments[$0] })
      }
    }
    // Without a codebook every encoding falls back to csr.
    XCTAssertEqual(EncodedWeights(dense, codebook: nil, encoding: .huffman).encoding, .csr)
  }

  func testRelativeIndexingUsesFillersForLongGaps() {
    let (gaps, entries) = RelativeIndexing.encode([3, 600])
    XCTAssertEqual(gaps, [4, 255, 255, 87])
    XCTAssertEqual(entries, [0, -1, -1, 1])
    XCTAssertEqual(RelativeIndexing.decode(gaps, count: 601), [3, 258, 513, 600])
    XCTAssertNil(RelativeIndexing.decode(gaps, count: 600))
    XCTAssertNil(RelativeIndexing.decode([1, 0, 2], count: 10))
  }

  func assertModelError(_ body: () throws -> Void, _ message: String, line: UInt = #line) {
    XCTAssertThrowsError(try body(), message, line: line) { error in
      XCTAssertTrue(error is ModelError, "\(message): \(type(of: error)) \(error)", line: line)
    }
  }

  func testMalformedStoredTensorsThrowModelErrors() {
    let (dense, codebook) = sharedSparseWeight()
    let csr = stored(EncodedWeights(dense, codebook: nil, encoding: .csr))
    let book = stored(EncodedWeights(dense, codebook: codebook, encoding: .codebook))
    let huffman = stored(EncodedWeights(dense, codebook: codebook, encoding: .huffman))

    var pastTheEnd = csr
    let gapCount = csr["weight.gaps"]!.count
    pastTheEnd["weight.gaps"] = .uint8(Tensor(shape: [gapCount], scalars: [UInt8](repeating: 255, count: gapCount)))
    assertModelError({ _ = try restore(pastTheEnd, .csr) }, "gaps past the end")

    var wrongType = csr
    wrongType["weight.values"] = .int32(Tensor(shape: [gapCount], scalars: [Int32](repeating: 1, count: gapCount)))
    assertModelError({ _ = try restore(wrongType, .csr) }, "values as I32")
    var wrongGapType = book
    wrongGapType["weight.gaps"] = .float32(Tensor(shape: [1], scalars: [1]))
    assertModelError({ _ = try restore(wrongGapType, .codebook) }, "gaps as F32")

    var shortValues = csr
    shortValues["weight.values"] = .float32(Tensor(shape: [2], scalars: [1, 2]))
    assertModelError({ _ = try restore(shortValues, .csr) }, "fewer values than gaps")

    var beyond = book
    guard case .uint8(let indices) = book["weight.indices"]! else { return XCTFail("indices are not U8") }
    var bad = indices.scalars
    bad[0] = UInt8(codebook.centroids.count + 1)  // the zero entry is centroids.count; one past it
    beyond["weight.indices"] = .uint8(Tensor(shape: indices.shape, scalars: bad))
    assertModelError({ _ = try restore(beyond, .codebook) }, "index beyond the codebook")

    var missing = book
    missing["weight.codebook"] = nil
    assertModelError({ _ = try restore(missing, .codebook) }, "no codebook")

    guard case .uint8(let stream) = huffman["weight.huffman"]! else { return XCTFail("stream is not U8") }
    for keep in [0, 3, stream.count / 2, stream.count - 1] {
      var truncated = huffman
      truncated["weight.huffman"] = .uint8(Tensor(shape: [keep], scalars: Array(stream.scalars.prefix(keep))))
      assertModelError({ _ = try restore(truncated, .huffman) }, "huffman stream cut to \(keep) bytes")
    }
    var smallBook = huffman
    smallBook["weight.codebook"] = .float32(Tensor(shape: [3], scalars: [1, 2, 3]))
    assertModelError({ _ = try restore(smallBook, .huffman) }, "huffman with a shorter codebook")
  }

  /// A trained MLP pruned (masks) and optionally shared and Huffman-coded.
  func compressed(share: Bool, huffman: Bool, data: DatasetSplit) throws -> Model {
    var model = Architecture.mlp(hidden: [96], inputShape: [1, 8, 8], classCount: 3, seed: 1)
    _ = Trainer(TrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 0.05)).train(model, on: data.train)
    model = try technique("prune", [("sparsity", .float(0.9))]).applied(to: model, context: context(data))
    if share {
      model = try technique("weight-sharing", [("bits", .int(4)), ("epochs", .int(0))])
        .applied(to: model, context: context(data))
    }
    if huffman { model = try technique("huffman").applied(to: model, context: context(data)) }
    return model
  }

  /// A layer pruned to half its weights is stored sparse (smaller than fp32, same outputs); an
  /// unpruned layer with as many zeros by chance, and a pruned one too dense to gain, stay fp32.
  func testHalfPrunedLayersAreSmallerOnDisk() throws {
    var g = SeededGenerator(seed: 4)
    for (density, pruned, sparse) in [(0.5, true, true), (0.7, true, true), (0.6, false, false), (0.9, true, false)] {
      let weight = Parameter(.uniform([64, 128], low: -1, high: 1, generator: &g))
      let keep = Tensor<Float>(
        shape: [64, 128], scalars: (0..<8192).map { _ in g.nextUniform() < Float(density) ? 1 : 0 })
      weight.value = weight.value * keep
      if pruned { weight.mask = keep }
      let model = try Model(
        architecture: "one", inputShape: [128], classCount: 64, sequence: [("fc", Linear(weight: weight, bias: nil))])
      let deployed = Deployment.inferenceModel(model)
      let layer = deployed.nodes[0].layer
      XCTAssertEqual(layer is SparseLinear, sparse, "density \(density), mask \(pruned)")
      if sparse {
        XCTAssertLessThan(layer.statistics.storedBytes, 8192 * 4, "density \(density)")
        let x = Tensor<Float>.uniform([3, 128], low: -1, high: 1, generator: &g)
        assertClose(logits(deployed, x), logits(model, x), tolerance: 1e-5)
      }
    }
  }

  func testSavedInferenceModelsPredictLikeTheModelInMemory() throws {
    let data = blobSplit()
    let folder = try temporaryDirectory(self)
    var sizes: [Int] = []
    let plain = folder.appendingPathComponent("fp32.safetensors")
    let pruned = try compressed(share: false, huffman: false, data: data)
    try ModelFile.save(pruned, to: plain)
    sizes.append(try fileSize(plain))
    for (name, share, huffman, op) in [
      ("csr", false, false, "sparse_linear"), ("codebook", true, false, "sparse_linear"),
      ("huffman", true, true, "sparse_linear"),
    ] {
      let model = try compressed(share: share, huffman: huffman, data: data)
      let url = folder.appendingPathComponent("\(name).safetensors")
      let loaded = try deployedRoundTrip(model, to: url)
      XCTAssertEqual(loaded.nodes.first { $0.name == "fc1" }?.layer.spec.op, op, name)
      XCTAssertEqual(loaded.nodes.first { $0.name == "fc1" }?.layer.spec.attributes["encoding"], .string(name))
      for batch in [1, 37, 90] {
        let x = data.test.inputs.sliced(axis: 0, 0..<batch)
        assertClose(logits(loaded, x), logits(model, x), tolerance: 1e-5, "\(name), batch \(batch)")
      }
      sizes.append(try fileSize(url))
    }
    // fp32 > csr > codebook > huffman.
    XCTAssertEqual(sizes, sizes.sorted(by: >), "\(sizes)")
    XCTAssertEqual(Set(sizes).count, 4, "\(sizes)")
  }

  func testEncodedConvolutionMatchesTheMaskedConvolution() throws {
    let data = blobSplit()
    let model = try technique("prune", [("sparsity", .float(0.8))]).applied(
      to: Architecture.digitsCNN.build(classCount: 3, seed: 2), context: context(data))
    let loaded = try deployedRoundTrip(model, to: try temporaryDirectory(self).appendingPathComponent("c.safetensors"))
    XCTAssertEqual(loaded.nodes.first { $0.name == "conv2" }?.layer.spec.op, "encoded_conv2d")
    let x = data.test.inputs.sliced(axis: 0, 0..<9)
    assertClose(logits(loaded, x), logits(model, x), tolerance: 1e-5)
  }

  /// y = x·Wᵀ + b in double precision.
  func referenceLinear(_ x: [Float], batch: Int, _ w: [Float], out: Int, _ b: [Float]) -> [Float] {
    let k = w.count / out
    var y = [Float](repeating: 0, count: batch * out)
    for r in 0..<batch {
      for o in 0..<out {
        var s = Double(b[o])
        for i in 0..<k { s += Double(x[r * k + i]) * Double(w[o * k + i]) }
        y[r * out + o] = Float(s)
      }
    }
    return y
  }

  func testSparseLinearEqualsDenseLinear() {
    var g = SeededGenerator(seed: 8)
    for density in [0.05, 0.3] {
      let (out, k) = (33, 70)
      let w = (0..<(out * k)).map { _ in g.nextUniform() < Float(density) ? g.nextNormal() : 0 }
      let b = (0..<out).map { _ in g.nextNormal() }
      // Whichever path the layer picks by timing (dense, CSR or sliced), with and without a
      // folded ReLU.
      for relu in [false, true] {
        let layer = SparseLinear(
          weights: EncodedWeights(Tensor(shape: [out, k], scalars: w), codebook: nil, encoding: .csr),
          bias: Parameter(Tensor(shape: [out], scalars: b), isTrainable: false), relu: relu)
        for batch in [1, 37] {
          let x = Tensor<Float>.normal([batch, k], generator: &g)
          var forward = ForwardContext.inference
          let y = layer.forward([Variable(x)], context: &forward).value
          XCTAssertEqual(y.shape, [batch, out])
          let expected = referenceLinear(x.scalars, batch: batch, w, out: out, b).map { relu ? max(0, $0) : $0 }
          assertClose(
            y.scalars, expected, tolerance: 1e-4,
            "density \(density), batch \(batch), relu \(relu), \(layer.kernelName)")
        }
      }
    }
  }
}
