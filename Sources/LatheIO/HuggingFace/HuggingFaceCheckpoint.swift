import Foundation
import LatheTensor

/// A Hugging Face model folder (config.json, model.safetensors, and usually tokenizer.json)
/// opened as a Lathe model: BERT encoders as `Transformer.encoder` (sentence embeddings, as
/// sentence-transformers computes them), GPT-2 decoders as `Transformer.decoder`. Each
/// checkpoint tensor is mapped to a node's parameter by name, transposed where GPT-2 stores a
/// Conv1D ([in, out]) instead of a Linear ([out, in]); every shape is checked against
/// config.json first, so a file that does not match its config is an error naming the tensor.
public enum HuggingFaceCheckpoint {
  /// Where the folder the model was opened from is kept in its metadata.
  public static let folderKey = "huggingface.folder"

  /// Whether `url` is a folder holding a config.json (what `ModelOpener` takes for a checkpoint).
  public static func isCheckpoint(_ url: URL) -> Bool {
    var isFolder: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue
      && FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path)
  }

  public static func load(folder: URL) throws -> Model {
    let config = try HuggingFaceConfig.read(from: folder.appendingPathComponent("config.json"))
    let weights = folder.appendingPathComponent("model.safetensors")
    guard FileManager.default.fileExists(atPath: weights.path) else {
      throw LatheIOError.unreadable(
        file: weights.path, reason: "no such file (Lathe reads a checkpoint's weights from model.safetensors only)")
    }
    let tensors = try HuggingFaceTensors.read(from: weights)
    let model: Model
    switch config.family {
    case .bert: model = try bert(config, tensors)
    case .gpt2: model = try gpt2(config.transformer, tensors)
    }
    model.metadata[folderKey] = folder.path
    if FileManager.default.fileExists(atPath: folder.appendingPathComponent("tokenizer.json").path) {
      model.metadata[Transformer.tokenizerKey] = "tokenizer.json"
    }
    return model
  }

  /// Sets `model`'s parameter `parameter` to checkpoint tensors, naming both in errors.
  private struct Loader {
    let model: Model
    let tensors: HuggingFaceTensors
    /// "bert." or "transformer." when the checkpoint was saved from a model with a head.
    let prefixes: [String]

    func read(_ name: String, shape: [Int]) throws -> Tensor<Float> {
      try tensors.tensor(tensors.name(name, prefixes: prefixes), shape: shape)
    }

    func set(_ parameter: String, _ value: Tensor<Float>) {
      // The builders made every parameter named here.
      let target = model.parameter(named: parameter)!
      precondition(target.shape == value.shape, "\(parameter): \(target.shape) from \(value.shape)")
      target.value = value
    }

    func copy(_ name: String, to parameter: String) throws {
      set(parameter, try read(name, shape: model.parameter(named: parameter)!.shape))
    }

    /// A LayerNorm's γ and β.
    func norm(_ name: String, to node: String) throws {
      try copy(name + ".weight", to: node + ".weight")
      try copy(name + ".bias", to: node + ".bias")
    }

    /// A Linear stored as [out, in] (PyTorch's nn.Linear).
    func linear(_ name: String, to node: String) throws {
      try copy(name + ".weight", to: node + ".weight")
      try copy(name + ".bias", to: node + ".bias")
    }
  }

  static func bert(_ config: HuggingFaceConfig, _ tensors: HuggingFaceTensors) throws -> Model {
    let c = config.transformer
    let model = Transformer.encoder(c)
    let load = Loader(model: model, tensors: tensors, prefixes: ["", "bert."])
    try load.copy("embeddings.word_embeddings.weight", to: "wte.weight")
    // Every token of a single sentence has type 0, so its row is part of every position's.
    let positions = try load.read("embeddings.position_embeddings.weight", shape: [c.positions, c.width])
    let types = try load.read("embeddings.token_type_embeddings.weight", shape: [config.tokenTypes, c.width])
    load.set("wpe.weight", positions + types.sliced(axis: 0, 0..<1))
    try load.norm("embeddings.LayerNorm", to: "ln_e")
    for i in 0..<c.layers {
      let (layer, node) = ("encoder.layer.\(i).", "h\(i).")
      try load.linear(layer + "attention.self.query", to: node + "q")
      try load.linear(layer + "attention.self.key", to: node + "k")
      try load.linear(layer + "attention.self.value", to: node + "v")
      try load.linear(layer + "attention.output.dense", to: node + "proj")
      try load.norm(layer + "attention.output.LayerNorm", to: node + "ln1")
      try load.linear(layer + "intermediate.dense", to: node + "fc1")
      try load.linear(layer + "output.dense", to: node + "fc2")
      try load.norm(layer + "output.LayerNorm", to: node + "ln2")
    }
    return model
  }

  static func gpt2(_ c: TransformerConfig, _ tensors: HuggingFaceTensors) throws -> Model {
    let model = Transformer.decoder(c)
    let load = Loader(model: model, tensors: tensors, prefixes: ["", "transformer."])
    try load.copy("wte.weight", to: "wte.weight")
    try load.copy("wpe.weight", to: "wpe.weight")
    for i in 0..<c.layers {
      let (block, node) = ("h.\(i).", "h\(i).")
      try load.norm(block + "ln_1", to: node + "ln1")
      // Conv1D keeps [in, out]: q, k and v side by side in c_attn's columns.
      let attention = try load.read(block + "attn.c_attn.weight", shape: [c.width, 3 * c.width]).permuted([1, 0])
      let attentionBias = try load.read(block + "attn.c_attn.bias", shape: [3 * c.width])
      for (k, name) in ["q", "k", "v"].enumerated() {
        let rows = (k * c.width)..<((k + 1) * c.width)
        load.set(node + name + ".weight", attention.sliced(axis: 0, rows).contiguous())
        load.set(node + name + ".bias", attentionBias.sliced(axis: 0, rows).contiguous())
      }
      try conv1D(load, block + "attn.c_proj", to: node + "proj", inputs: c.width, outputs: c.width)
      try load.norm(block + "ln_2", to: node + "ln2")
      try conv1D(load, block + "mlp.c_fc", to: node + "fc1", inputs: c.width, outputs: c.mlpWidth)
      try conv1D(load, block + "mlp.c_proj", to: node + "fc2", inputs: c.mlpWidth, outputs: c.width)
    }
    try load.norm("ln_f", to: "ln_f")
    return model
  }

  /// GPT-2's Conv1D, y = x·W + b with W [in, out], as a Linear's [out, in].
  private static func conv1D(_ load: Loader, _ name: String, to node: String, inputs: Int, outputs: Int) throws {
    load.set(
      node + ".weight", try load.read(name + ".weight", shape: [inputs, outputs]).permuted([1, 0]).contiguous())
    try load.copy(name + ".bias", to: node + ".bias")
  }
}
