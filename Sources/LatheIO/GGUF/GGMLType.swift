/// A tensor's element type in a GGUF file: ggml's `enum ggml_type`, with each type's block
/// (elements per block, bytes per block) from ggml's `ggml-common.h`. Types ggml has removed
/// or that Lathe cannot size (the IQ and ternary families) are not listed: a file holding them
/// is refused as unsupported rather than misread.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case f32 = 0
  case f16 = 1
  case q40 = 2
  case q41 = 3
  case q50 = 6
  case q51 = 7
  case q80 = 8
  case q81 = 9
  case q2K = 10
  case q3K = 11
  case q4K = 12
  case q5K = 13
  case q6K = 14
  case q8K = 15
  case i8 = 24
  case i16 = 25
  case i32 = 26
  case i64 = 27
  case f64 = 28
  case bf16 = 30

  /// Elements per block: 1 for plain types, 32 for the legacy quants, 256 for the K-quants.
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .i8, .i16, .i32, .i64, .f64, .bf16: return 1
    case .q40, .q41, .q50, .q51, .q80, .q81: return 32
    case .q2K, .q3K, .q4K, .q5K, .q6K, .q8K: return 256
    }
  }

  /// Bytes per block (`sizeof(block_*)` in ggml).
  public var blockBytes: Int {
    switch self {
    case .i8: return 1
    case .f16, .i16, .bf16: return 2
    case .f32, .i32: return 4
    case .i64, .f64: return 8
    case .q40: return 18  // fp16 d, 16 bytes of nibbles
    case .q41: return 20
    case .q50: return 22
    case .q51: return 24
    case .q80: return 34  // fp16 d, 32 int8
    case .q81: return 36
    case .q2K: return 84
    case .q3K: return 110
    case .q4K: return 144  // fp16 d and dmin, 12 bytes of 6-bit scales and mins, 128 of nibbles
    case .q5K: return 176
    case .q6K: return 210
    case .q8K: return 292
    }
  }

  /// Bits a weight costs, block scales included (Q8_0 8.5, Q4_0 4.5, Q4_K 4.5).
  public var bitsPerWeight: Double { Double(blockBytes * 8) / Double(blockSize) }

  /// The types Lathe writes and reads back as floats (`GGMLCodec`).
  public static let codable: [GGMLType] = [.f32, .f16, .q80, .q40, .q4K]

  /// The name ggml and the `gguf` Python package use ("F32", "Q4_K").
  public var description: String {
    switch self {
    case .f32: return "F32"
    case .f16: return "F16"
    case .q40: return "Q4_0"
    case .q41: return "Q4_1"
    case .q50: return "Q5_0"
    case .q51: return "Q5_1"
    case .q80: return "Q8_0"
    case .q81: return "Q8_1"
    case .q2K: return "Q2_K"
    case .q3K: return "Q3_K"
    case .q4K: return "Q4_K"
    case .q5K: return "Q5_K"
    case .q6K: return "Q6_K"
    case .q8K: return "Q8_K"
    case .i8: return "I8"
    case .i16: return "I16"
    case .i32: return "I32"
    case .i64: return "I64"
    case .f64: return "F64"
    case .bf16: return "BF16"
    }
  }
}
