import LatheCompress
import XCTest

/// Saving an edited pipeline keeps what the user wrote by hand around the steps they left alone.
final class PipelineTextTests: XCTestCase {
  let original = """
    # Deep compression, short: prune, then quantize.
    name: demo
    model: digits-mlp
    dataset: digits
    steps:
      # Prune first: quantizing a sparse model keeps its zeros.
      - name: prune
        technique: prune
        sparsity: 0.5   # 0.8 costs a point of accuracy

      # Eight bits per weight.
      - name: int8
        technique: quantize
        granularity: per-channel
    # The search below tunes the sparsity.
    search:
      objectives: [maximize accuracy]
    """

  func render(_ edit: (inout PipelineSpec) -> Void) throws -> (text: String, spec: PipelineSpec) {
    let source = try PipelineSpec.parse(original, file: "demo.yaml")
    var edited = source
    edit(&edited)
    let text = PipelineText.render(edited, original: original, source: source)
    return (text, try PipelineSpec.parse(text, file: "saved.yaml"))
  }

  func testUnchangedPipelineIsWrittenWordForWord() throws {
    XCTAssertEqual(try render { _ in }.text, original)
  }

  func testParameterOrderDoesNotCountAsAnEdit() throws {
    let (text, _) = try render { $0.steps[0].parameters.reverse() }
    XCTAssertEqual(text, original)
  }

  func testAChangedStepIsRewrittenAndTheOthersKeepTheirComments() throws {
    let (text, spec) = try render { $0.steps[1].parameters = [("granularity", .string("per-tensor"))] }
    XCTAssertTrue(text.contains("sparsity: 0.5   # 0.8 costs a point of accuracy"), text)
    XCTAssertTrue(text.contains("# Prune first"), text)
    XCTAssertTrue(text.contains("# The search below tunes the sparsity."), text)
    XCTAssertFalse(text.contains("per-channel"), text)
    XCTAssertEqual(spec.steps[1]["granularity"], .string("per-tensor"))
    XCTAssertNotNil(spec.search, "the search section survives")
  }

  func testAddedRemovedAndReorderedSteps() throws {
    let added = try render { $0.steps.append(StepSpec(name: "code", technique: "huffman")) }
    XCTAssertEqual(added.spec.steps.map(\.name), ["prune", "int8", "code"])
    XCTAssertTrue(added.text.contains("# Eight bits per weight."), added.text)

    let removed = try render { $0.steps.removeFirst() }
    XCTAssertEqual(removed.spec.steps.map(\.name), ["int8"])
    XCTAssertFalse(removed.text.contains("Prune first"), "a removed step's comment goes with it:\n\(removed.text)")
    XCTAssertTrue(removed.text.hasPrefix("# Deep compression, short"), removed.text)

    let swapped = try render { $0.steps.swapAt(0, 1) }
    XCTAssertEqual(swapped.spec.steps.map(\.name), ["int8", "prune"])
    XCTAssertTrue(swapped.text.contains("# 0.8 costs a point of accuracy"), swapped.text)
  }

  func testFlowStyleStepsFallBackToPlainYAML() throws {
    let flow = "name: flow\nsteps: [{name: a, technique: prune, sparsity: 0.5}]\n"
    let source = try PipelineSpec.parse(flow, file: "flow.yaml")
    var edited = source
    edited.steps[0].parameters = [("sparsity", .float(0.7))]
    let text = PipelineText.render(edited, original: flow, source: source)
    XCTAssertEqual(text, edited.yaml())
    XCTAssertEqual(try PipelineSpec.parse(text, file: "x").steps[0]["sparsity"], .float(0.7))
  }
}
