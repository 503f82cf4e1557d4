/// The model's graph as the layer rows describe it (`LayerRow.inputs`): what each layer reads
/// and what reads it, for the graph view. Built from one `[LayerRow]`, so it always matches
/// the table the user sees.
public struct LayerGraph {
  /// One end of an edge: a layer (an index into `layers`) or one of the model's inputs.
  public enum Node: Equatable, Sendable {
    case layer(Int)
    case modelInput(String)
  }

  public let layers: [LayerRow]
  private let index: [String: Int]
  private let readers: [String: [Int]]

  public init(_ layers: [LayerRow]) {
    self.layers = layers
    var index: [String: Int] = [:]
    var readers: [String: [Int]] = [:]
    for (i, layer) in layers.enumerated() {
      index[layer.name] = i
      // A layer that reads the same value twice (x + x) is one reader.
      for input in Set(layer.inputs) { readers[input, default: []].append(i) }
    }
    self.index = index
    self.readers = readers
  }

  /// The layer named `name`, if the model has it.
  public func layer(named name: String) -> Int? { index[name] }

  /// What `name` reads, in input order: earlier layers, or model inputs for names no layer has.
  public func producers(of name: String) -> [Node] {
    guard let i = index[name] else { return [] }
    return layers[i].inputs.map { input in index[input].map(Node.layer) ?? .modelInput(input) }
  }

  /// The layers that read `name`'s output, in graph order.
  public func consumers(of name: String) -> [Int] { readers[name] ?? [] }
}

/// What the pipeline changed in a layer, found by comparing it with the same layer in the model
/// as opened: the graph view marks these nodes and says how they changed.
public enum LayerChanges {
  /// Short phrases for each change to `layer` against `original` (the same name in the first
  /// snapshot): "bits 32 → 8", "sparsity 0% → 75%", "kernel gemm-f32 → sparse-csr",
  /// "relu folded in"; "new layer" when the original has none; empty when nothing changed.
  public static func describe(_ layer: LayerRow, original: LayerRow?) -> [String] {
    guard let original else { return ["new layer"] }
    var changes: [String] = []
    if layer.op != original.op { changes.append("op \(original.op) → \(layer.op)") }
    if layer.parameters > 0, layer.bits != original.bits {
      changes.append("bits \(Format.axis(original.bits)) → \(Format.axis(layer.bits))")
    }
    if abs(layer.sparsity - original.sparsity) >= 0.005 {
      changes.append(
        "sparsity \(Format.percent(original.sparsity, digits: 0)) → \(Format.percent(layer.sparsity, digits: 0))")
    }
    if layer.parameters != original.parameters {
      changes.append("params \(Format.count(original.parameters)) → \(Format.count(layer.parameters))")
    }
    if layer.kernel != original.kernel { changes.append("kernel \(original.kernel) → \(layer.kernel)") }
    if let folded = layer.foldedActivation, original.foldedActivation == nil { changes.append("\(folded) folded in") }
    return changes
  }

  /// The original's layers that the current model no longer has, each with the layer it was
  /// folded into when a layer it read now carries a folded activation (a ReLU inside a sparse
  /// or int8 kernel), else nil (removed).
  public static func removed(current: [LayerRow], original: [LayerRow]) -> [(name: String, foldedInto: String?)] {
    let now = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    return original.filter { now[$0.name] == nil }.map { gone in
      let owner = gone.inputs.count == 1 ? now[gone.inputs[0]] : nil
      return (gone.name, owner?.foldedActivation != nil ? owner?.name : nil)
    }
  }
}
