import LatheTensor

/// Turns a model as compression steps leave it (fp32 layers carrying masks and codebooks) into
/// the form it is saved and served in: pruned or shared weights stored encoded and, for fully
/// connected layers sparse enough to gain, computed with the sparse kernel.
public enum Deployment {
  /// Below this density a weight is stored sparse even without a mask (it is mostly zeros).
  static let sparseStorageBelow = 0.5

  public static func inferenceModel(_ model: Model) -> Model {
    let result = model.copy()
    let huffman = model.metadata[DeploymentKeys.encoding] == "huffman"
    let gapBits = Int(model.metadata[DeploymentKeys.gapBits] ?? "") ?? 0
    for node in result.nodes {
      switch node.layer {
      case let linear as Linear:
        if let weights = semiStructured(linear.weight) {
          result.replaceLayer(
            named: node.name, with: SemiStructuredLinear(weights: weights, bias: linear.bias?.value))
          continue
        }
        guard let encoding = encoding(for: linear.weight, huffman: huffman) else { continue }
        var weights = EncodedWeights(linear.weight.value, codebook: linear.weight.codebook, encoding: encoding)
        weights.gapBits = gapBits
        // A ReLU that alone reads this layer runs inside it, one pass fewer per inference.
        let readers = result.readers(of: node.name)
        let fold = readers.count == 1 && (readers[0].layer as? Function)?.kind == .relu
        result.replaceLayer(
          named: node.name,
          with: SparseLinear(
            weights: weights, bias: linear.bias.map { Parameter($0.value, isTrainable: false) }, relu: fold))
        if fold { result.bypassNode(named: readers[0].name) }
      case let conv as Conv2d:
        guard let encoding = encoding(for: conv.weight, huffman: huffman) else { continue }
        var weights = EncodedWeights(conv.weight.value, codebook: conv.weight.codebook, encoding: encoding)
        weights.gapBits = gapBits
        result.replaceLayer(named: node.name, with: EncodedConv2d(weights: weights, template: conv))
      default:
        continue
      }
    }
    return result
  }

  /// The 2:4 form of a weight whose mask keeps exactly 2 of every 4 inputs in every row (what
  /// pruning with pattern "2:4" leaves), or nil. A weight far sparser than its mask (below
  /// `sparseStorageBelow` / 2 nonzeros, e.g. 2:4 then unstructured pruning on top) and a
  /// shared one keep the CSR and codebook rules.
  static func semiStructured(_ weight: Parameter) -> SemiStructuredWeights? {
    guard weight.codebook == nil, let mask = weight.mask, SemiStructuredWeights.isTwoFour(mask) else { return nil }
    let density = 1 - Double(weight.zeroCount) / Double(max(weight.value.count, 1))
    guard density >= sparseStorageBelow / 2 else { return nil }
    return SemiStructuredWeights(weight: weight.value, mask: mask)
  }

  /// How a weight should be stored, or nil to keep it dense fp32.
  ///
  /// A pruned weight (one with a mask) denser than that is stored sparse too when that is
  /// smaller than fp32: a byte of gap and four of value per nonzero beat four bytes per weight
  /// up to about 80% density, so a model pruned to half its weights is 40% smaller on disk, not
  /// the same size. The sparse layer times its kernels against the dense product per shape and
  /// computes with the fastest (`SparseKernelChoices`), so the file shrinks at no cost in speed.
  static func encoding(for weight: Parameter, huffman: Bool) -> EncodedWeights.Encoding? {
    if weight.codebook != nil { return huffman ? .huffman : .codebook }
    let density = 1 - Double(weight.zeroCount) / Double(max(weight.value.count, 1))
    if density < sparseStorageBelow { return .csr }
    guard weight.mask != nil, density < 0.85 else { return nil }
    let sparse = EncodedWeights(weight.value, codebook: nil, encoding: .csr).storedTensors(prefix: "")
    return sparse.reduce(0) { $0 + $1.tensor.byteCount } < weight.value.count * 4 ? .csr : nil
  }
}
