import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// ONNX Attention (`ONNXAttention`): values against a loop-by-loop reference written here (4-D
/// and 3-D, causal, masks, scale, grouped-query heads, softcap, past keys, the qk output),
/// gradients w.r.t. Q, K and V, a model file round trip, export and reimport, and refusals.
final class AttentionOpTests: XCTestCase {
  /// softmax(q·kᵀ·scale (softcapped) + bias)·v per batch and head, with plain loops. `bias(b, h, i, j)`
  /// is the mask; causal keys after i + offset get −∞; a row with every key −∞ gives zeros.
  static func reference(
    _ q: Tensor<Float>, _ k: Tensor<Float>, _ v: Tensor<Float>, scale: Float? = nil, softcap: Float = 0,
    causal: Bool = false, offset: Int = 0, bias: ((Int, Int, Int, Int) -> Float)? = nil
  ) -> Tensor<Float> {
    let (batch, heads, queries, size) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (kvHeads, keys, vSize) = (k.shape[1], k.shape[2], v.shape[3])
    let (qs, ks, vs) = (q.scalars, k.scalars, v.scalars)
    let scale = scale ?? 1 / Float(size).squareRoot()
    var out = [Float](repeating: 0, count: batch * heads * queries * vSize)
    for b in 0..<batch {
      for h in 0..<heads {
        let kh = h / (heads / kvHeads)
        for i in 0..<queries {
          var scores = [Float](repeating: 0, count: keys)
          var extra = [Float](repeating: 0, count: keys)
          for j in 0..<keys {
            var dot: Float = 0
            for d in 0..<size {
              dot += qs[((b * heads + h) * queries + i) * size + d] * ks[((b * kvHeads + kh) * keys + j) * size + d]
            }
            var s = dot * scale
            if softcap > 0 { s = softcap * Foundation.tanh(s / softcap) }
            extra[j] = (bias?(b, h, i, j) ?? 0) + (causal && j > i + offset ? -.infinity : 0)
            scores[j] = s + extra[j]
          }
          guard extra.contains(where: { $0 != -.infinity }) else { continue }
          let peak = scores.max()!
          let e = scores.map { Foundation.exp($0 - peak) }
          let total = e.reduce(0, +)
          for d in 0..<vSize {
            var acc: Float = 0
            for j in 0..<keys { acc += e[j] / total * vs[((b * kvHeads + kh) * keys + j) * vSize + d] }
            out[((b * heads + h) * queries + i) * vSize + d] = acc
          }
        }
      }
    }
    return Tensor(shape: [batch, heads, queries, vSize], scalars: out)
  }

  func apply(
    _ settings: ONNXAttention.Settings, _ inputs: [Tensor<Float>], _ output: ONNXAttention.Output = .y
  ) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXAttention(output, settings).forward(inputs.map { Variable($0) }, context: &context).value
  }

  func random(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
    var g = SeededGenerator(seed: seed)
    return .uniform(shape, low: -1, high: 1, generator: &g)
  }

  func close(_ a: Tensor<Float>, _ b: Tensor<Float>, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, file: file, line: line)
    XCTAssertLessThan(a.maxAbsDifference(b), 1e-5, file: file, line: line)
  }

  func testFourDimensional() {
    let (q, k, v) = (random([2, 3, 4, 8], seed: 1), random([2, 3, 6, 8], seed: 2), random([2, 3, 6, 5], seed: 3))
    var s = ONNXAttention.Settings()
    close(apply(s, [q, k, v]), Self.reference(q, k, v))
    s.scale = 0.3
    close(apply(s, [q, k, v]), Self.reference(q, k, v, scale: 0.3))
    s.softcap = 0.4
    close(apply(s, [q, k, v]), Self.reference(q, k, v, scale: 0.3, softcap: 0.4))
    // Causal with 4 queries over 6 keys: top-left aligned, query i sees keys 0...i.
    var causal = ONNXAttention.Settings()
    causal.isCausal = true
    close(apply(causal, [q, k, v]), Self.reference(q, k, v, causal: true))
    XCTAssertNotEqual(apply(causal, [q, k, v]).scalars, apply(ONNXAttention.Settings(), [q, k, v]).scalars)
  }

  func testMasksPaddedAndFullyMasked() {
    let (q, k, v) = (random([1, 2, 3, 4], seed: 4), random([1, 2, 5, 4], seed: 5), random([1, 2, 5, 4], seed: 6))
    var s = ONNXAttention.Settings()
    s.hasMask = true
    // A [3, 4] mask over 5 keys: the last key is padded with −∞; row 1 blocks every key.
    let inf = -Float.infinity
    let mask = Tensor<Float>(shape: [3, 4], scalars: [0, 0.5, -1, 0, inf, inf, inf, inf, 0.2, 0, inf, 0])
    let bias: (Int, Int, Int, Int) -> Float = { _, _, i, j in j < 4 ? mask.scalars[i * 4 + j] : inf }
    let y = apply(s, [q, k, v, mask])
    close(y, Self.reference(q, k, v, bias: bias))
    XCTAssertEqual(Array(y.scalars[4..<8]), [0, 0, 0, 0], "a fully masked row is zeros, not NaN")
    // A per-head [2, 3, 5] mask with causal masking on top.
    let heads = random([2, 3, 5], seed: 7)
    s.isCausal = true
    close(
      apply(s, [q, k, v, heads]),
      Self.reference(q, k, v, causal: true, bias: { _, h, i, j in heads.scalars[(h * 3 + i) * 5 + j] }))
    // qk_matmul_output: the scaled scores (mode 0), with the bias (2), the probabilities (3).
    s.qkMode = 0
    let scores = apply(s, [q, k, v, heads], .qk)
    XCTAssertEqual(scores.shape, [1, 2, 3, 5])
    XCTAssertTrue(scores.scalars.allSatisfy(\.isFinite))
    s.qkMode = 2
    XCTAssertEqual(apply(s, [q, k, v, heads], .qk).scalars[1], -.infinity, "causal: query 0 does not see key 1")
    s.qkMode = 3
    let p = apply(s, [q, k, v, heads], .qk)
    XCTAssertEqual(p.scalars[0], 1, accuracy: 1e-6)
    XCTAssertEqual(p.sum(axes: [3]).scalars.reduce(0, +), 6, accuracy: 1e-5)
  }

  func testThreeDimensionalGroupedQueryAndPast() {
    // 3-D: 4 query heads of size 2 and 2 key/value heads ([h0, h0, h1, h1] after repeating).
    let (q, k, v) = (random([2, 3, 8], seed: 8), random([2, 5, 4], seed: 9), random([2, 5, 6], seed: 10))
    var s = ONNXAttention.Settings()
    (s.qHeads, s.kvHeads) = (4, 2)
    let split = { (x: Tensor<Float>, h: Int) in
      x.reshaped([x.shape[0], x.shape[1], h, x.shape[2] / h]).permuted([0, 2, 1, 3]).contiguous()
    }
    let want = Self.reference(split(q, 4), split(k, 2), split(v, 2))
    let y = apply(s, [q, k, v])
    XCTAssertEqual(y.shape, [2, 3, 12])
    close(y, want.permuted([0, 2, 1, 3]).contiguous().reshaped([2, 3, 12]))
    // Past keys and values go before the new ones; causal is then offset by the past's length.
    let (pk, pv) = (random([2, 2, 4, 2], seed: 11), random([2, 2, 4, 3], seed: 12))
    s.hasPast = true
    s.isCausal = true
    let fullK = Tensor.concatenate([pk, split(k, 2)], axis: 2)
    let fullV = Tensor.concatenate([pv, split(v, 2)], axis: 2)
    close(apply(s, [q, k, v, pk, pv], .presentKey), fullK)
    close(apply(s, [q, k, v, pk, pv], .presentValue), fullV)
    let withPast = Self.reference(split(q, 4), fullK, fullV, causal: true, offset: 4)
    close(apply(s, [q, k, v, pk, pv]), withPast.permuted([0, 2, 1, 3]).contiguous().reshaped([2, 3, 12]))
  }

  // MARK: - Through the importer

  func attentionModel(
    _ attributes: [Onnx_AttributeProto], inputs: [(String, [Int])], outputs: [String] = ["y"],
    initializers: [Onnx_TensorProto] = [], nodeInputs: [String]? = nil
  ) -> Data {
    let node = ONNXBuild.node(
      "Attention", nodeInputs ?? inputs.map(\.0), outputs, name: "attn", attributes)
    return ONNXBuild.data(
      ONNXBuild.model(
        nodes: [node], initializers: initializers, inputs: inputs.map { ONNXBuild.value($0.0, $0.1) },
        outputs: outputs.filter { !$0.isEmpty }, opset: 23))
  }

  func testImportBooleanMaskAndSeveralOutputs() throws {
    let (q, k, v) = (random([1, 2, 3, 4], seed: 13), random([1, 2, 3, 4], seed: 14), random([1, 2, 3, 4], seed: 15))
    var mask = Onnx_TensorProto()
    mask.name = "m"
    mask.dims = [3, 3]
    mask.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
    mask.int32Data = [1, 0, 1, 1, 1, 0, 0, 0, 1]
    let data = attentionModel(
      [Attr.float("scale", 0.5), Attr.int("qk_matmul_output_mode", 3)],
      inputs: [("q", q.shape), ("k", k.shape), ("v", v.shape)], outputs: ["y", "", "pv", "qk"], initializers: [mask],
      nodeInputs: ["q", "k", "v", "m"])
    let outputs = try ONNXImporter.load(data: data).run([q, k, v])
    XCTAssertEqual(outputs.count, 3)
    let allowed = mask.int32Data
    let want = Self.reference(q, k, v, scale: 0.5, bias: { _, _, i, j in allowed[i * 3 + j] != 0 ? 0 : -.infinity })
    close(outputs[0], want)
    close(outputs[1], v)
    XCTAssertEqual(outputs[2].scalars[1], 0, "a false mask entry gets no probability")
  }

  func testRefusalsNameTheNode() {
    let shapes = [("q", [1, 2, 3, 4]), ("k", [1, 2, 3, 4]), ("v", [1, 2, 3, 4])]
    let cases: [([Onnx_AttributeProto], [(String, [Int])], String)] = [
      ([Attr.int("qk_matmul_output_mode", 4)], shapes, "qk_matmul_output_mode"),
      ([Attr.float("softcap", -1)], shapes, "softcap"),
      ([Attr.int("is_causal", 2)], shapes, "is_causal"),
      ([Attr.int("softmax_precision", 7)], shapes, "softmax_precision"),
      ([], [("q", [1, 3, 8]), ("k", [1, 3, 8]), ("v", [1, 3, 8])], "q_num_heads"),
      (
        [Attr.int("q_num_heads", 3), Attr.int("kv_num_heads", 2)],
        [("q", [1, 3, 8]), ("k", [1, 3, 8]), ("v", [1, 3, 8])],
        "multiple"
      ),
      ([], [("q", [1, 3, 3, 4]), ("k", [1, 2, 3, 4]), ("v", [1, 2, 3, 4])], "query heads"),
    ]
    for (attributes, inputs, words) in cases {
      XCTAssertThrowsError(try ONNXImporter.load(data: attentionModel(attributes, inputs: inputs))) { error in
        guard case ONNXError.invalidNode(_, let node, _, let reason) = error else {
          return XCTFail("\(error) is not a node error")
        }
        XCTAssertEqual(node, "attn")
        XCTAssertTrue(reason.contains(words), "\(reason) should mention \(words)")
      }
    }
  }

  /// A one-input graph (Lathe models have one input and one output) chaining a 3-D Attention
  /// with a mask shorter than the keys (its present_key used; a constant past cannot follow the
  /// symbolic batch), a causal softcapped 4-D one (its Y)
  /// and one giving the probabilities (qk_matmul_output, mode 3): saved, reopened, exported (at
  /// opset 23) and imported again, computing the same.
  func testSaveReloadAndExportAgain() throws {
    let constants = [
      ONNXBuild.tensor("mask", [3, 2], [0, -0.25, -0.5, 0, -3, 0.25])
    ]
    let nodes = [
      ONNXBuild.node(
        "Attention", ["x", "x", "x", "mask"], ["", "pk3"], name: "a3",
        [Attr.int("q_num_heads", 2), Attr.int("kv_num_heads", 2), Attr.float("scale", 0.7)]),
      ONNXBuild.node(
        "Attention", ["pk3", "pk3", "pk3"], ["y4"], name: "a4", [Attr.int("is_causal", 1), Attr.float("softcap", 2)]),
      ONNXBuild.node(
        "Attention", ["y4", "y4", "y4"], ["", "", "", "p"], name: "a5", [Attr.int("qk_matmul_output_mode", 3)]),
    ]
    let m = ONNXBuild.model(
      nodes: nodes, initializers: constants, inputs: [ONNXBuild.value("x", [1, 3, 4])], outputs: ["p"], opset: 23)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertEqual(model.nodes.compactMap { ($0.layer as? ONNXAttention)?.output }, [.presentKey, .y, .qk])
    let x = random([1, 3, 4], seed: 32)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [1, 2, 3, 3])
    XCTAssertEqual(y.sum(axes: [3]).scalars.reduce(0, +), 6, accuracy: 1e-4)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-attention-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    XCTAssertEqual(back.nodes.map(\.layer.spec), model.nodes.map(\.layer.spec))
    XCTAssertEqual(back.predict(x).scalars, y.scalars)
    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 23)
    XCTAssertEqual(proto.graph.node.filter { $0.opType == "Attention" }.count, 3)
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    close(again.predict(x), y)
  }
}

/// Numerical gradient checks for `ONNXAttention` w.r.t. Q, K and V, with `GradientTests.check`.
extension GradientTests {
  func attention(_ s: ONNXAttention.Settings, _ position: Int, _ others: [Tensor<Float>]) -> (Variable) -> Variable {
    { x in
      var inputs = others.map { Variable($0) }
      inputs.insert(x, at: position)
      var context = ForwardContext(isTraining: true)
      return ONNXAttention(.y, s).forward(inputs, context: &context)
    }
  }

  func testAttentionGradients() {
    var g = SeededGenerator(seed: 21)
    let (q, k, v) = (
      Tensor<Float>.uniform([1, 2, 3, 4], low: -1, high: 1, generator: &g),
      Tensor<Float>.uniform([1, 1, 4, 4], low: -1, high: 1, generator: &g),
      Tensor<Float>.uniform([1, 1, 4, 3], low: -1, high: 1, generator: &g)
    )
    // Grouped-query (2 query heads, 1 key/value head), causal, softcapped, with a mask.
    var s = ONNXAttention.Settings()
    s.isCausal = true
    s.softcap = 1.5
    s.hasMask = true
    let mask = Tensor<Float>(shape: [3, 4], scalars: [0, -1, 0, 0, 0.5, 0, -.infinity, 0, 0, 0, 0, -0.5])
    check(q.shape, attention(s, 0, [k, v, mask]))
    check(k.shape, attention(s, 1, [q, v, mask]))
    check(v.shape, attention(s, 2, [q, k, mask]))
    // 3-D with a past: the gradient reaches Q, K and V through the head split and the concatenation.
    var three = ONNXAttention.Settings()
    (three.qHeads, three.kvHeads, three.hasPast) = (2, 2, true)
    let past = Tensor<Float>.uniform([1, 2, 2, 2], low: -1, high: 1, generator: &g)
    let (q3, k3, v3) = (
      Tensor<Float>.uniform([1, 3, 4], low: -1, high: 1, generator: &g),
      Tensor<Float>.uniform([1, 2, 4], low: -1, high: 1, generator: &g),
      Tensor<Float>.uniform([1, 2, 4], low: -1, high: 1, generator: &g)
    )
    check(q3.shape, attention(three, 0, [k3, v3, past, past]))
    check(k3.shape, attention(three, 1, [q3, v3, past, past]))
    check(v3.shape, attention(three, 2, [q3, k3, past, past]))
  }
}
