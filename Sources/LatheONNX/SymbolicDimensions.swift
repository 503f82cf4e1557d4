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
///
/// Unnamed dimensions cannot say which of them are the same size. Many exporters leave the
/// batch unnamed in a state input whose first axis is fixed (Silero VAD's `state` is
/// `[2, ?, 128]`, its batch on axis 1): a graph that fails to import as declared is imported
/// again with each such dimension in turn probed as the batch (`ProbePlan.batchGuess`).
struct SymbolicDimensions {
  static let batchProbes = [1, 2]
  static let sizeProbeSets = [[320, 384], [64, 96], [16, 24]]

  private var symbolOf: [[String?]] = []
  private var batchSymbols: Set<String> = []
  private let sizeProbes: [Int]
  /// Whether any symbol is probed with `sizeProbes` (so another set might import).
  private(set) var hasSizes = false

  /// Unnamed symbols off the first axis of their input, which a retry may probe as the batch:
  /// those of inputs whose first axis is fixed first (where a batch elsewhere is likeliest).
  private(set) var batchCandidates: [String] = []

  init(_ declared: [Onnx_TensorShapeProto], shapes: [[Int]], sizeProbes: [Int], batchGuess: Int? = nil) {
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
    var likely: [String] = []
    var others: [String] = []
    for (k, names) in symbolOf.enumerated() {
      for case (let axis, let symbol?) in names.enumerated() where axis > 0 && symbol.hasPrefix("#") {
        if shapes[k].first.map({ $0 >= 0 }) ?? false { likely.append(symbol) } else { others.append(symbol) }
      }
    }
    batchCandidates = likely + others
    if let guess = batchGuess, guess < batchCandidates.count { batchSymbols.insert(batchCandidates[guess]) }
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

  /// The plan to import with after `plan` failed, or nil when every plan has been tried.
  func plan(after plan: ProbePlan) -> ProbePlan? {
    let nextGuess = (plan.batchGuess ?? -1) + 1
    if nextGuess < batchCandidates.count { return ProbePlan(sizeSet: plan.sizeSet, batchGuess: nextGuess) }
    if hasSizes && plan.sizeSet + 1 < Self.sizeProbeSets.count { return ProbePlan(sizeSet: plan.sizeSet + 1) }
    return nil
  }

  /// Whether a dimension's sizes over the passes are those of a batch symbol.
  static func isBatch(_ sizes: [Int]) -> Bool { sizes == Array(batchProbes.prefix(sizes.count)) }
}

/// How one import probes symbolic dimensions: which of `SymbolicDimensions.sizeProbeSets`, and
/// which unnamed dimension (an index into `batchCandidates`), if any, it takes for the batch.
struct ProbePlan: Equatable {
  var sizeSet = 0
  var batchGuess: Int? = nil
}
