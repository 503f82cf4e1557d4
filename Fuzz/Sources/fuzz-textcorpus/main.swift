import Foundation
import FuzzSupport
import LatheIO
import LatheTensor

// A text corpus as `--dataset story.txt` reads one: bytes as token ids, cut into windows; the
// same bytes gzipped-or-not, since `.txt.gz` takes the gzip path.
private let url = FuzzInput.scratchURL(extension: "txt")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: url)
  for window in [1, 8, 128] {
    do {
      let split = try TextCorpus.load(url, window: window)
      _ = split.train.count
      _ = split.test.count
    } catch {
      FuzzInput.checkOneLine(error)
    }
  }
  return 0
}
