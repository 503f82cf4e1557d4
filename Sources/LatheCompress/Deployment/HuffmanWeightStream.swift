import LatheTensor

/// Placeholder until the entropy coder lands: huffman encoding falls back to the codebook form.
enum HuffmanWeightStream {
  struct Failure: Error, CustomStringConvertible { var description: String }

  static func encode(_ weights: EncodedWeights) -> [UInt8] { [] }

  static func decode(_ bytes: [UInt8], shape: [Int], codebook: [Float]) throws -> EncodedWeights {
    throw Failure(description: "Huffman streams are not supported yet")
  }
}
