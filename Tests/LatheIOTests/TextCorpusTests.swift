import Foundation
import LatheTensor
import XCTest

@testable import LatheIO

/// Text as language-model windows, and a GPT's model file.
final class TextCorpusTests: XCTestCase {
  func testWindowsPairEachByteWithTheNext() {
    let text = Array("abcdefghij".utf8)
    let (inputs, next) = TextCorpus.windows(text, window: 4, stride: 2)
    // Windows start at 0, 2, 4; the one at 6 would need a byte after j.
    XCTAssertEqual(inputs.shape, [3, 4])
    XCTAssertEqual(inputs.scalars.prefix(4).map { UInt8($0) }, Array("abcd".utf8))
    XCTAssertEqual(next.scalars.prefix(4).map { UInt8($0) }, Array("bcde".utf8))
    XCTAssertEqual(next.scalars.suffix(4).map { UInt8($0) }, Array("fghi".utf8))
  }

  func testFolderAndSingleFileLoad() throws {
    let folder = try temporaryDirectory()
    let text = String(repeating: "In the beginning was the word. ", count: 80)
    try Data(text.utf8).write(to: folder.appendingPathComponent("train.txt"))
    try Data(Gzip.compress(Array(text.utf8))).write(to: folder.appendingPathComponent("test.txt.gz"))
    let split = try DatasetCatalog.load(folder.path, samplesDirectory: folder)
    XCTAssertEqual(split.train.sampleShape, [128])
    XCTAssertEqual(split.train.classCount, 256)
    XCTAssertFalse(split.train.isLabelled)
    // Test windows do not overlap: ⌊(2480 − 129) / 128⌋ + 1 of them.
    XCTAssertEqual(split.test.count, (text.utf8.count - 129) / 128 + 1)
    XCTAssertEqual(split.test.nextTokens?.shape, split.test.inputs.shape)

    let file = folder.appendingPathComponent("one.txt")
    try Data(text.utf8).write(to: file)
    let single = try DatasetCatalog.load(file.path, samplesDirectory: folder)
    XCTAssertGreaterThan(single.train.count, single.test.count)
  }

  func testTooShortTextNamesThePartAndTheLength() throws {
    let file = try temporaryDirectory().appendingPathComponent("short.txt")
    try Data(String(repeating: "x", count: 500).utf8).write(to: file)
    assertThrows(try TextCorpus.load(file), mentions: ["short.txt", "test text", "more than 128 bytes", "50 bytes"])
  }

  func testBundledCorpusLoads() throws {
    let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("samples")
    let split = try DatasetCatalog.load("kjv", samplesDirectory: samples)
    XCTAssertGreaterThan(split.train.count, 40_000)
    XCTAssertGreaterThan(split.test.count, 500)
    // "In the beginning God created the heaven and the earth." opens the training text.
    XCTAssertEqual(split.train.inputs.scalars.prefix(16).map { UInt8($0) }, Array("In the beginning".utf8))
  }

  func testGPTModelFileRoundTrip() throws {
    let config = TransformerConfig(vocabulary: 13, positions: 8, width: 8, layers: 2, heads: 2, kvHeads: 1)
    let model = Transformer.decoder(config, seed: 3)
    let url = try temporaryDirectory().appendingPathComponent("gpt.safetensors")
    try ModelFile.save(model, to: url)
    let loaded = try ModelFile.load(from: url)
    XCTAssertEqual(loaded.transformerConfig, config)
    XCTAssertTrue(loaded.isLanguageModel)
    XCTAssertEqual(loaded.symbolicAxes, [0])
    let ids = Tensor<Float>(shape: [2, 5], scalars: [1, 2, 3, 4, 5, 12, 0, 7, 7, 1])
    XCTAssertEqual(loaded.predict(ids).scalars, model.predict(ids).scalars)
    // The tied table is stored once.
    XCTAssertEqual(loaded.namedParameters.count, model.namedParameters.count)
  }
}
