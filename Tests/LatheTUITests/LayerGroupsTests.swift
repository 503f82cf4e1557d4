import XCTest

@testable import LatheTUI

/// The Model panel's pure logic: blocks from names, filtering, sorting and folding, and the
/// graph and change marks the graph view draws.
final class LayerGroupsTests: XCTestCase {
  func row(_ name: String, op: String = "conv2d", bytes: Int = 0, inputs: [String] = [], share: Double? = nil)
    -> LayerRow
  {
    LayerRow(
      name: name, op: op, shape: [], parameters: bytes / 4, sparsity: 0, bits: 32, bytes: bytes, kernel: "k",
      inputs: inputs, latencyShare: share)
  }

  func testBlockPrefixesOfONNXAndHuggingFaceNames() {
    let cases: [(String, String?)] = [
      ("/model.10/conv/Conv", "/model.10/"),
      ("/model.10/Add", "/model.10/"),
      ("encoder.layer.3.attention.self.query", "encoder.layer.3."),
      ("/layer1/layer1.0/conv1/Conv", "/layer1/layer1.0/"),
      ("bert.embeddings.word_embeddings", "bert.embeddings."),
      ("/conv1/Conv", "/conv1/"),
      ("layers.7", "layers."),
      ("fc1", nil),
      ("Conv_12", nil),
      ("/Flatten", nil),
    ]
    for (name, prefix) in cases { XCTAssertEqual(LayerBlock.prefix(of: name), prefix, name) }
  }

  func testBlocksNeedTwoMembersAndKeepGraphOrder() {
    let layers = [
      row("/model.1/conv/Conv"), row("fc1"), row("/model.1/act/Relu"), row("/model.2/conv/Conv"),
      row("/model.3/conv/Conv"), row("/model.3/act/Relu"),
    ]
    let blocks = LayerBlock.blocks(of: layers)
    XCTAssertEqual(blocks.map(\.prefix), ["/model.1/", "/model.3/"], "/model.2/ alone is no block")
    XCTAssertEqual(blocks.map(\.members), [[0, 2], [4, 5]])
    XCTAssertEqual(blocks[0].title, "/model.1/*")
  }

  func testRowsPutAGroupRowAtItsFirstLayerAndFoldHidesItsMembers() {
    let layers = [
      row("/model.1/conv/Conv"), row("/model.1/act/Relu", op: "relu"), row("fc1"), row("/model.2/a"),
      row("/model.2/b"),
    ]
    let blocks = LayerBlock.blocks(of: layers)
    let open = LayerList.rows(layers, blocks: blocks)
    XCTAssertEqual(
      open.map { $0.identity(in: layers) },
      [
        "block /model.1/", "layer /model.1/conv/Conv", "layer /model.1/act/Relu", "layer fc1", "block /model.2/",
        "layer /model.2/a", "layer /model.2/b",
      ])
    let folded = LayerList.rows(layers, blocks: blocks, folded: ["/model.2/"])
    XCTAssertEqual(folded.count, 5)
    XCTAssertEqual(folded.last, .block(blocks[1], shown: [3, 4], folded: true))
  }

  func testFilterMatchesNameOrOpAndKeepsTheBlocksOfMatches() {
    var layers = [
      row("/model.1/conv/Conv"), row("/model.1/act/Relu", op: "relu"), row("fc1", op: "linear"),
      row("/model.2/conv/Conv"), row("/model.2/m/Add", op: "add"),
    ]
    layers[2].foldedActivation = "relu"
    let blocks = LayerBlock.blocks(of: layers)
    let relu = LayerList.rows(layers, blocks: blocks, filter: "RELU")
    XCTAssertEqual(
      relu.map { $0.identity(in: layers) }, ["block /model.1/", "layer /model.1/act/Relu", "layer fc1"],
      "case-insensitive, by op, and a folded relu counts")
    XCTAssertEqual(relu.first, .block(blocks[0], shown: [1], folded: false))
    let folded = LayerList.rows(layers, blocks: blocks, filter: "conv", folded: ["/model.2/"])
    XCTAssertEqual(
      folded.map { $0.identity(in: layers) }, ["block /model.1/", "layer /model.1/conv/Conv", "block /model.2/"])
    XCTAssertEqual(folded.last, .block(blocks[1], shown: [3], folded: true), "a folded block counts its matches")
    XCTAssertEqual(LayerList.rows(layers, blocks: blocks, filter: "nothing like it"), [])
  }

  func testSortByBytesPlacesBlocksByTheirSumAndSortsWithin() {
    let layers = [row("/a.1/x", bytes: 40), row("/a.1/y", bytes: 50), row("big", bytes: 80), row("small", bytes: 8)]
    let rows = LayerList.rows(layers, blocks: LayerBlock.blocks(of: layers), sort: .bytes)
    XCTAssertEqual(
      rows.map { $0.identity(in: layers) },
      [
        "block /a.1/", "layer /a.1/y", "layer /a.1/x", "layer big", "layer small",
      ], "the block's 90 bytes beat 80; inside it, 50 before 40")
  }

  func testSortByTimePutsUnmeasuredLayersLastInGraphOrder() {
    let layers = [row("a", share: nil), row("b", share: 0.2), row("c", share: nil), row("d", share: 0.7)]
    let rows = LayerList.rows(layers, blocks: [], sort: .latency)
    XCTAssertEqual(rows.map { $0.identity(in: layers) }, ["layer d", "layer b", "layer a", "layer c"])
  }

  func testSortBySensitivityAndErrorPutTheWorstFirst() {
    var layers = [row("a"), row("b"), row("c")]
    layers[0].outputSQNR = 40
    layers[1].outputSQNR = 12
    layers[2].outputSQNR = .infinity
    XCTAssertEqual(
      LayerList.rows(layers, blocks: [], sort: .error).map { $0.identity(in: layers) },
      ["layer b", "layer a", "layer c"])
    let byKL = LayerList.rows(layers, blocks: [], sort: .sensitivity, sensitivity: ["c": 0.5, "a": 0.1])
    XCTAssertEqual(byKL.map { $0.identity(in: layers) }, ["layer c", "layer a", "layer b"])
  }

  func testSortCyclesBackToGraphOrder() {
    var sort = LayerSort.graph
    var seen: [String] = []
    for _ in LayerSort.allCases {
      seen.append(sort.label)
      sort = sort.next
    }
    XCTAssertEqual(seen, ["graph order", "bytes", "time", "int8 KL", "SQNR"])
    XCTAssertEqual(sort, .graph)
  }

  func testTheLargeFixtureGroupsIntoItsBlocks() {
    let layers = LargeModel.original
    XCTAssertEqual(layers.count, 500)
    let blocks = LayerBlock.blocks(of: layers)
    XCTAssertEqual(blocks.count, LargeModel.blockCount + 2, "62 blocks, the stem and the head")
    XCTAssertEqual(blocks.map(\.members.count).reduce(0, +), 500)
    let allFolded = LayerList.rows(layers, blocks: blocks, folded: Set(blocks.map(\.prefix)))
    XCTAssertEqual(allFolded.count, 64)
  }

  // MARK: graph

  func testProducersAndConsumersComeFromTheInputs() {
    let layers = [
      row("conv", inputs: ["input"]), row("relu", op: "relu", inputs: ["conv"]), row("skip", inputs: ["conv"]),
      row("add", op: "add", inputs: ["relu", "skip", "mask"]), row("square", op: "mul", inputs: ["add", "add"]),
    ]
    let graph = LayerGraph(layers)
    XCTAssertEqual(graph.producers(of: "conv"), [.modelInput("input")])
    XCTAssertEqual(graph.producers(of: "add"), [.layer(1), .layer(2), .modelInput("mask")])
    XCTAssertEqual(graph.consumers(of: "conv"), [1, 2])
    XCTAssertEqual(graph.consumers(of: "add"), [4], "reading a value twice is one reader")
    XCTAssertEqual(graph.consumers(of: "square"), [])
    XCTAssertEqual(graph.producers(of: "missing"), [])
  }

  func testChangesAgainstTheOriginalNameWhatAStepDid() throws {
    let original = LargeModel.original
    let after = LargeModel.afterStep
    let byName = Dictionary(uniqueKeysWithValues: original.map { ($0.name, $0) })
    let conv = try XCTUnwrap(after.first { $0.name == "/model.3/cv1/conv/Conv" })
    XCTAssertEqual(
      LayerChanges.describe(conv, original: byName[conv.name]),
      ["bits 32 → 8", "sparsity 0% → 50%", "kernel im2col+sgemm → int8", "relu folded in"])
    let untouched = try XCTUnwrap(after.first { $0.name == "/model.30/m/conv/Conv" })
    XCTAssertEqual(LayerChanges.describe(untouched, original: byName[untouched.name]), [])
    XCTAssertEqual(LayerChanges.describe(conv, original: nil), ["new layer"])
    let removed = LayerChanges.removed(current: after, original: original)
    XCTAssertEqual(removed.count, 10)
    XCTAssertEqual(removed.first?.name, "/model.1/cv1/act/Relu")
    XCTAssertEqual(removed.first?.foldedInto, "/model.1/cv1/conv/Conv")
  }
}
