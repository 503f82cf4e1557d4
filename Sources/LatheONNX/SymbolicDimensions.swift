import Foundation

/// The sizes the importer gives a graph's symbolic dimensions in its shape-probing passes.
///
/// Dimensions with the same name (`batch`, `sequence_length`) are one symbol and get the same
/// size; unnamed ones are a symbol each. A symbol that is the first axis of some input is a
/// batch and is probed as 1 and 2, the values a folded `Shape` recognises as the batch (see
/// `ONNXConstant.batchMarker`). Any other symbol (an image's width, a sequence's length) is
/// probed as 320 and 384: sizes a stack of strided convolutions accepts where 1 and 2 would
/// not, and that no fixed dimension is likely to equal, so a `Shape` that reads them is
/// computed at run time instead of being folded. A graph that cannot take them (a positional
/// table of 256 rows) is imported again with the next, smaller pair (`sizeProbeSets`).
struct SymbolicDimensions {
  static let batchProbes = [1, 2]
  static let sizeProbeSets = [[320, 384], [64, 96], [16, 24]]

  private var symbolOf: [[String?]] = []
  private var batchSymbols: Set<String> = []
  private let sizeProbes: [Int]
  /// Whether any symbol is probed with `sizeProbes` (so another set might import).
  private(set) var hasSizes = false

  init(_ declared: [Onnx_TensorShapeProto], shapes: [[Int]], sizeProbes: [Int]) {
    self.sizeProbes = sizeProbes
    for (k, shape) in shapes.enumerated() {
      let dims = k < declared.count ? declared[k].dim : []
      let names: [String?] = shape.enumerated().map { axis, size in
        guard size < 0 else { return nil }
        if dims.count == shape.count, case .dimParam(let name) = dims[axis].value, !name.isEmpty { return "$" + name }
        return "#\(k).\(axis)"
      }
      if let first = names.first, let symbol = first { batchSymbols.insert(symbol) }
      symbolOf.append(names)
    }
    hasSizes = symbolOf.joined().contains { $0 != nil && !batchSymbols.contains($0!) }
  }

  /// Input `k`'s shape in probing pass `pass`: fixed sizes as they are, symbols by their probe.
  func shape(of k: Int, _ shape: [Int], pass: Int) -> [Int] {
    shape.enumerated().map { axis, size in
      guard size < 0, k < symbolOf.count, let symbol = symbolOf[k][axis] else { return size }
      return (batchSymbols.contains(symbol) ? Self.batchProbes : sizeProbes)[pass]
    }
  }

  /// The first axis of input `k` that is a batch symbol, if any.
  func batchAxis(of k: Int) -> Int? {
    guard k < symbolOf.count else { return nil }
    return symbolOf[k].firstIndex { $0.map(batchSymbols.contains) ?? false }
  }

  /// Whether a dimension's sizes over the passes are those of a batch symbol.
  static func isBatch(_ sizes: [Int]) -> Bool { sizes == Array(batchProbes.prefix(sizes.count)) }
}
