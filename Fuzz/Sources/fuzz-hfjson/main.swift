import Foundation
import FuzzSupport
import LatheIO

// A Hugging Face checkpoint's JSON files: the same bytes read as tokenizer.json (then used to
// encode and decode a sentence, as `lathe` does with a real one) and as config.json.
private let tokenizerURL = FuzzInput.scratchURL(extension: "tokenizer.json")
private let configURL = FuzzInput.scratchURL(extension: "config.json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: tokenizerURL)
  FuzzInput.write(data, size, to: configURL)
  do {
    let tokenizer = try Tokenizer.read(from: tokenizerURL)
    let ids = tokenizer.encode("In the beginning God created the heaven and the earth. Ünïcode 🙂 [SEP]")
    _ = tokenizer.decode(ids)
    _ = tokenizer.decode([0, 1, -1, Int.max, tokenizer.vocabularySize])
  } catch {
    FuzzInput.checkOneLine(error)
  }
  do {
    let config = try HuggingFaceConfig.read(from: configURL)
    _ = config.transformer
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
