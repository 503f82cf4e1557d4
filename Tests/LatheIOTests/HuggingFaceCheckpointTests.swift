import Foundation
import LatheTensor
import XCTest

@testable import LatheIO

/// Hugging Face folders written here from Lathe-built models under Hugging Face's names and
/// layouts (GPT-2's fused, transposed Conv1D; BERT's token-type row), in F32, F16 and BF16,
/// must open as models computing what the originals compute; broken folders are errors
/// naming the file and the field or tensor.
final class HuggingFaceCheckpointTests: XCTestCase {
  /// A safetensors file of float tensors stored as `dtype`.
  static func writeSafetensors(_ tensors: [(String, Tensor<Float>)], dtype: String, to url: URL) throws {
    var fields: [String] = []
    var data: [UInt8] = []
    for (name, tensor) in tensors {
      let begin = data.count
      for v in tensor.contiguous().scalars {
        switch dtype {
        case "F16": withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { data += $0 }
        case "BF16": withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { data += $0 }
        default: withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 }
        }
      }
      fields.append(
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(tensor.shape),\"data_offsets\":[\(begin),\(data.count)]}")
    }
    // BERT checkpoints carry an int64 buffer the opener must pass over.
    let ids = (0..<4).flatMap { i in withUnsafeBytes(of: Int64(i).littleEndian) { Array($0) } }
    fields.append(
      "\"embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,4],\"data_offsets\":[\(data.count),\(data.count + 32)]}"
    )
    data += ids
    let header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
    bytes += header + data
    try Data(bytes).write(to: url)
  }

  /// Values as `dtype` stores them, so a model can be compared with its reloaded copy exactly.
  static func rounded(_ t: Tensor<Float>, _ dtype: String) -> Tensor<Float> {
    switch dtype {
    case "F16": return t.mapFloat { Float(Float16($0)) }
    case "BF16": return t.mapFloat { Float(bitPattern: $0.bitPattern & 0xffff_0000) }
    default: return t
    }
  }

  static func roundParameters(_ model: Model, _ dtype: String) {
    for (_, p) in model.namedParameters { p.value = rounded(p.value, dtype) }
  }

  func value(_ model: Model, _ name: String) -> Tensor<Float> { model.parameter(named: name)!.value }

  // MARK: GPT-2

  static let gpt2Config = TransformerConfig(
    vocabulary: 40, positions: 10, width: 12, layers: 2, heads: 3, mlpWidth: 20, activation: .geluTanh)

  func gpt2Folder(_ model: Model, dtype: String, prefix: String = "") throws -> URL {
    let c = Self.gpt2Config
    let folder = try temporaryDirectory()
    try """
    {"model_type": "gpt2", "vocab_size": \(c.vocabulary), "n_positions": \(c.positions), "n_embd": \(c.width),
     "n_layer": \(c.layers), "n_head": \(c.heads), "n_inner": \(c.mlpWidth), "activation_function": "gelu_new",
     "layer_norm_epsilon": 1e-5}
    """.write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    var tensors: [(String, Tensor<Float>)] = [
      ("wte.weight", value(model, "wte.weight")), ("wpe.weight", value(model, "wpe.weight")),
    ]
    for i in 0..<c.layers {
      let (n, h) = ("h\(i).", "h.\(i).")
      let qkv = Tensor<Float>.concatenate(["q", "k", "v"].map { value(model, n + $0 + ".weight") }, axis: 0)
      tensors += [
        (h + "ln_1.weight", value(model, n + "ln1.weight")), (h + "ln_1.bias", value(model, n + "ln1.bias")),
        (h + "attn.c_attn.weight", qkv.permuted([1, 0]).contiguous()),
        (h + "attn.c_attn.bias", Tensor.concatenate(["q", "k", "v"].map { value(model, n + $0 + ".bias") }, axis: 0)),
        (h + "attn.c_proj.weight", value(model, n + "proj.weight").permuted([1, 0]).contiguous()),
        (h + "attn.c_proj.bias", value(model, n + "proj.bias")),
        (h + "ln_2.weight", value(model, n + "ln2.weight")), (h + "ln_2.bias", value(model, n + "ln2.bias")),
        (h + "mlp.c_fc.weight", value(model, n + "fc1.weight").permuted([1, 0]).contiguous()),
        (h + "mlp.c_fc.bias", value(model, n + "fc1.bias")),
        (h + "mlp.c_proj.weight", value(model, n + "fc2.weight").permuted([1, 0]).contiguous()),
        (h + "mlp.c_proj.bias", value(model, n + "fc2.bias")),
      ]
    }
    tensors += [("ln_f.weight", value(model, "ln_f.weight")), ("ln_f.bias", value(model, "ln_f.bias"))]
    try Self.writeSafetensors(
      tensors.map { (prefix + $0.0, $0.1) }, dtype: dtype, to: folder.appendingPathComponent("model.safetensors"))
    return folder
  }

  func testGPT2OpensInEveryFloatDTypeAndComputesTheSameLogits() throws {
    for (dtype, prefix) in [("F32", ""), ("F16", "transformer."), ("BF16", "")] {
      let original = Transformer.decoder(Self.gpt2Config, seed: 7)
      // Layer norms at 1 and 0 would hide a γ/β swap.
      for (name, p) in original.namedParameters where name.contains("ln") {
        p.value = TestDataIO.uniform(p.shape, seed: UInt64(name.count), low: 0.5, high: 1.5)
      }
      Self.roundParameters(original, dtype)
      let folder = try gpt2Folder(original, dtype: dtype, prefix: prefix)
      XCTAssertTrue(HuggingFaceCheckpoint.isCheckpoint(folder))
      let opened = try HuggingFaceCheckpoint.load(folder: folder)
      XCTAssertEqual(opened.architecture, "gpt")
      XCTAssertTrue(opened.isLanguageModel)
      XCTAssertEqual(opened.transformerConfig?.activation, .geluTanh)
      XCTAssertEqual(opened.metadata[HuggingFaceCheckpoint.folderKey], folder.path)
      let ids = Tensor<Float>(shape: [2, 5], scalars: [1, 5, 9, 3, 39, 0, 2, 4, 8, 16])
      let expected = original.predict(ids)
      let logits = opened.predict(ids)
      XCTAssertEqual(logits.shape, [2, 5, 40])
      XCTAssertLessThanOrEqual(logits.maxAbsDifference(expected), 1e-5, dtype)
    }
  }

  // MARK: BERT

  static let bertConfig = TransformerConfig(
    vocabulary: 30, positions: 8, width: 8, layers: 2, heads: 2, mlpWidth: 16, tiedHead: false, epsilon: 1e-12)

  func bertFolder(_ model: Model, typeRow: Tensor<Float>, prefix: String, config: String? = nil) throws -> URL {
    let c = Self.bertConfig
    let folder = try temporaryDirectory()
    try
      (config
        ?? """
        {"model_type": "bert", "vocab_size": \(c.vocabulary), "max_position_embeddings": \(c.positions),
         "hidden_size": \(c.width), "num_hidden_layers": \(c.layers), "num_attention_heads": \(c.heads),
         "intermediate_size": \(c.mlpWidth), "hidden_act": "gelu", "layer_norm_eps": 1e-12, "type_vocab_size": 2,
         "position_embedding_type": "absolute"}
        """).write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    let types = Tensor<Float>.concatenate([typeRow, typeRow * 3], axis: 0)
    var tensors: [(String, Tensor<Float>)] = [
      ("embeddings.word_embeddings.weight", value(model, "wte.weight")),
      ("embeddings.position_embeddings.weight", value(model, "wpe.weight") - typeRow),
      ("embeddings.token_type_embeddings.weight", types),
      ("embeddings.LayerNorm.weight", value(model, "ln_e.weight")),
      ("embeddings.LayerNorm.bias", value(model, "ln_e.bias")),
    ]
    let names = [
      ("q", "attention.self.query"), ("k", "attention.self.key"), ("v", "attention.self.value"),
      ("proj", "attention.output.dense"), ("ln1", "attention.output.LayerNorm"), ("fc1", "intermediate.dense"),
      ("fc2", "output.dense"), ("ln2", "output.LayerNorm"),
    ]
    for i in 0..<c.layers {
      for (node, hf) in names {
        for part in ["weight", "bias"] {
          tensors.append(("encoder.layer.\(i).\(hf).\(part)", value(model, "h\(i).\(node).\(part)")))
        }
      }
    }
    try Self.writeSafetensors(
      tensors.map { (prefix + $0.0, $0.1) }, dtype: "F32", to: folder.appendingPathComponent("model.safetensors"))
    return folder
  }

  func testBERTOpensAsASentenceEncoderWithTheTokenTypeRowFolded() throws {
    for prefix in ["", "bert."] {
      let original = Transformer.encoder(Self.bertConfig, seed: 8)
      for (name, p) in original.namedParameters where name.contains("ln") {
        p.value = TestDataIO.uniform(p.shape, seed: UInt64(name.count), low: 0.5, high: 1.5)
      }
      let typeRow = TestDataIO.uniform([1, 8], seed: 9)
      let opened = try HuggingFaceCheckpoint.load(folder: bertFolder(original, typeRow: typeRow, prefix: prefix))
      XCTAssertEqual(opened.architecture, "bert")
      XCTAssertEqual(opened.extraInputs.map(\.name), ["attention_mask"])
      let ids = Tensor<Float>(shape: [2, 4], scalars: [2, 7, 29, 3, 2, 11, 0, 0])
      let mask = Tensor<Float>(shape: [2, 4], scalars: [1, 1, 1, 1, 1, 1, 0, 0])
      let y = opened.predict(feeds: [ids, mask])[0]
      XCTAssertEqual(y.shape, [2, 8])
      XCTAssertLessThanOrEqual(y.maxAbsDifference(original.predict(feeds: [ids, mask])[0]), 1e-5, prefix)
    }
  }

  func testBrokenCheckpointsNameTheFileAndTheTensor() throws {
    let original = Transformer.encoder(Self.bertConfig, seed: 10)
    let typeRow = Tensor<Float>.zeros([1, 8])

    // A tensor missing.
    var folder = try bertFolder(original, typeRow: typeRow, prefix: "")
    let entries = try SafetensorsHeader.read(headerOf: folder.appendingPathComponent("model.safetensors")).entries
    XCTAssertTrue(entries.contains { $0.name == "encoder.layer.1.output.dense.weight" })
    let bigger = TransformerConfig(
      vocabulary: 30, positions: 8, width: 8, layers: 3, heads: 2, mlpWidth: 16, tiedHead: false)
    folder = try bertFolder(
      original, typeRow: typeRow, prefix: "",
      config: """
        {"model_type": "bert", "vocab_size": 30, "max_position_embeddings": 8, "hidden_size": 8,
         "num_hidden_layers": \(bigger.layers), "num_attention_heads": 2, "intermediate_size": 16}
        """)
    assertThrows(
      try HuggingFaceCheckpoint.load(folder: folder),
      mentions: ["model.safetensors", "encoder.layer.2.attention.self.query.weight", "no such tensor"])

    // A shape that does not match config.json.
    folder = try bertFolder(
      original, typeRow: typeRow, prefix: "",
      config: """
        {"model_type": "bert", "vocab_size": 31, "max_position_embeddings": 8, "hidden_size": 8,
         "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 16}
        """)
    assertThrows(
      try HuggingFaceCheckpoint.load(folder: folder),
      mentions: ["model.safetensors", "embeddings.word_embeddings.weight", "[31, 8]", "[30, 8]"])

    // A weight in an integer dtype.
    folder = try temporaryDirectory()
    try
      #"{"model_type": "bert", "vocab_size": 30, "max_position_embeddings": 8, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16}"#
      .write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    let table = SafetensorsFile(tensors: [
      (
        "embeddings.word_embeddings.weight",
        .int32(Tensor<Int32>(shape: [30, 8], scalars: Array(repeating: 0, count: 240)))
      )
    ])
    try table.write(to: folder.appendingPathComponent("model.safetensors"))
    assertThrows(
      try HuggingFaceCheckpoint.load(folder: folder),
      mentions: ["model.safetensors", "embeddings.word_embeddings.weight", "I32", "F16", "BF16"])

    // No weights at all.
    try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
    assertThrows(try HuggingFaceCheckpoint.load(folder: folder), mentions: ["model.safetensors", "no such file"])
  }

  func testHalfPrecisionDecoding() {
    XCTAssertEqual(HuggingFaceTensors.half(0x3c00), 1)
    XCTAssertEqual(HuggingFaceTensors.half(0xc000), -2)
    XCTAssertEqual(HuggingFaceTensors.half(0x7bff), 65504)
    XCTAssertEqual(HuggingFaceTensors.half(0x0001), Float(sign: .plus, exponent: -24, significand: 1))
    XCTAssertEqual(HuggingFaceTensors.half(0x8000), 0)
    XCTAssertEqual(HuggingFaceTensors.half(0x8000).sign, .minus)
    XCTAssertEqual(HuggingFaceTensors.half(0x7c00), .infinity)
    XCTAssertTrue(HuggingFaceTensors.half(0x7e00).isNaN)
    XCTAssertEqual(HuggingFaceTensors.half(0x3555), Float(Float16(bitPattern: 0x3555)))
  }
}

enum TestDataIO {
  static func uniform(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor<Float> {
    var generator = SeededGenerator(seed: seed)
    return .uniform(shape, low: low, high: high, generator: &generator)
  }
}
