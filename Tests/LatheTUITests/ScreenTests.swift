import LatheCompress
import XCTest

@testable import LatheTUI

/// Whole screens built from the fake session and compared with golden text.
final class ScreenTests: XCTestCase {
  func makeApp(_ session: FakeWorkbenchSession = FakeWorkbenchSession(), glyphs: Glyphs = .unicode) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: glyphs)
  }

  func testHomeWide() {
    assertGolden(makeApp().render(width: 140, height: 36).text(), "home-140x36")
  }

  /// Scored by agreement with the input model (no labels, or not a classifier), the charts say
  /// "agreement", never "accuracy".
  func testChartsNameAgreementWhenThereAreNoLabels() {
    let session = FakeWorkbenchSession()
    session.state.baseline?.scoredAgainst = "input model"
    for i in session.state.steps.indices { session.state.steps[i].metrics?.scoredAgainst = "input model" }
    let text = makeApp(session).render(width: 140, height: 36).text()
    XCTAssertTrue(text.contains("agreement vs size"), text)
    XCTAssertFalse(text.contains("accuracy vs size"), text)
    XCTAssertTrue(makeApp().render(width: 140, height: 36).text().contains("accuracy vs size"))
  }

  /// Without labels the first chart is the KL divergence from the input model (mean and p99,
  /// from the steps' metrics), the pipeline table has an "agree" and a KL column, and the
  /// header says "agree".
  func testNoLabelsChartsKLAndTheTableShowsIt() throws {
    let session = FakeWorkbenchSession()
    session.state.baseline?.scoredAgainst = "input model"
    for i in session.state.steps.indices {
      session.state.steps[i].metrics?.scoredAgainst = "input model"
      session.state.steps[i].metrics?.extra = ["mean_kl_with_input": 0.0123, "p99_kl_with_input": 0.456]
    }
    let text = makeApp(session).render(width: 140, height: 36).text()
    XCTAssertTrue(text.contains("KL to input 0.01 p99 0.46"), text)
    XCTAssertFalse(text.contains("accuracy 97.5%"), text)
    XCTAssertTrue(text.contains("agree 97.5%"), "the header names agreement:\n\(text)")
    let header = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("technique") && $0.contains("state") })
    XCTAssertTrue(header.contains("agree") && header.contains("KL"), String(header))
    XCTAssertTrue(text.contains("0.01"), text)
  }

  /// After a sensitivity step in int8 mode the model panel has an "int8 KL" column with each
  /// layer's KL divergence when quantized alone; without one, no such column.
  func testTheModelPanelShowsInt8SensitivityAfterASensitivityStep() throws {
    XCTAssertFalse(makeApp().render(width: 140, height: 36).text().contains("int8 KL"))
    let session = FakeWorkbenchSession()
    let layers = try XCTUnwrap(session.state.model?.layers.filter { $0.parameters > 0 }.map(\.name))
    let done = try XCTUnwrap(session.state.steps.lastIndex { $0.state == .done })
    session.state.steps[done].metrics?.extra = Dictionary(
      uniqueKeysWithValues: layers.enumerated().map { ("int8_kl_\($0.element)", 0.0125 * Double($0.offset + 1)) })
    let text = makeApp(session).render(width: 140, height: 36).text()
    let lines = text.split(separator: "\n")
    XCTAssertTrue(lines.contains { $0.contains("layer") && $0.contains("int8 KL") }, text)
    let first = try XCTUnwrap(lines.first { $0.contains(" \(layers[0]) ") || $0.contains("┃\(layers[0]) ") })
    XCTAssertTrue(first.contains("0.01"), String(first))
  }

  /// A CTC model scored against label sequences: the first chart is exact-match and character
  /// error rate, the pipeline table has "exact" and "CER" columns, and the header says "exact".
  func testASequenceModelChartsExactMatchAndCharacterErrorRate() throws {
    let session = FakeWorkbenchSession()
    session.state.baseline?.extra = ["character_error_rate": 0.0125]
    for i in session.state.steps.indices { session.state.steps[i].metrics?.extra = ["character_error_rate": 0.0125] }
    let text = makeApp(session).render(width: 140, height: 36).text()
    XCTAssertTrue(text.contains("CER 1.3%") || text.contains("CER 1.2%"), text)
    XCTAssertTrue(text.contains("exact-match vs size"), text)
    let top = String(text.split(separator: "\n")[0])
    XCTAssertTrue(top.contains("exact 97.5%"), "the header names exact match: \(top)")
    let header = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("technique") && $0.contains("state") })
    XCTAssertTrue(header.contains("exact") && header.contains("CER"), String(header))
    XCTAssertFalse(makeApp().render(width: 140, height: 36).text().contains("CER"), "a classifier has no CER")
  }

  /// A language model: the first chart is perplexity across the steps, with the KL to the
  /// input model in its title; a classifier's charts never say perplexity.
  func testALanguageModelChartsPerplexity() throws {
    let session = FakeWorkbenchSession()
    session.state.baseline?.extra = ["perplexity": 3.3997]
    for i in session.state.steps.indices {
      session.state.steps[i].metrics?.extra = ["perplexity": 3.4146, "mean_kl_with_input": 0.0039]
    }
    let text = makeApp(session).render(width: 140, height: 36).text()
    XCTAssertTrue(text.contains("ppl 3.415 · KL 0.0039"), text)
    XCTAssertFalse(makeApp().render(width: 140, height: 36).text().contains("ppl "))
  }

  /// Before the model is measured its file size is unknown: the header says nothing rather than
  /// "0 B", and the totals row has "-".
  func testAnUnmeasuredModelShowsNoZeroSize() {
    let session = FakeWorkbenchSession()
    session.state.model?.totals.bytes = 0
    session.state.model?.totals.accuracy = nil
    let text = makeApp(session).render(width: 140, height: 36).text()
    let header = String(text.split(separator: "\n")[0])
    XCTAssertFalse(header.contains("0 B"), header)
    XCTAssertTrue(header.contains("lenet-5  mnist"), header)
  }

  /// The latency chart names the larger batch it was timed at when there is room.
  func testLatencyTitleNamesTheLargerBatch() {
    let latency = StepMetrics.Latency(
      batch1P50: 171_400, batch1P95: 180_000, batch256P50: 300_000, batch256P95: 310_000, batch: 2)
    XCTAssertEqual(ChartsPanel.latencyTitle(latency, width: 60, ascii: true), "latency b1 p50 171.4ms · b2 300.0ms")
    XCTAssertEqual(ChartsPanel.latencyTitle(latency, width: 20, ascii: true), "latency b1 p50 171.4ms")
    var one = latency
    one.batch = 1
    XCTAssertEqual(ChartsPanel.latencyTitle(one, width: 60, ascii: true), "latency b1 p50 171.4ms")
  }

  func testHomeMinimumSizeAscii() {
    assertGolden(makeApp(glyphs: .ascii).render(width: 80, height: 24).text(), "home-80x24-ascii")
  }

  func testTooSmallShowsMessage() {
    let text = makeApp().render(width: 60, height: 20).text()
    XCTAssertTrue(text.contains("Terminal too small: 60x20"), text)
    XCTAssertTrue(text.contains("at least 80x24"))
  }

  func testHelpOverlayListsKeys() {
    let app = makeApp()
    app.handle(Key("?"))
    let frame = app.render(width: 100, height: 30).text()
    assertGolden(frame, "help-100x30")
    app.handle(Key("x"))
    XCTAssertFalse(app.isShowingHelp)
  }

  /// At 100x30 the keys do not all fit: j/k scroll to the last section, any other key closes.
  func testHelpScrollsToKeysBelowTheBox() {
    let app = makeApp()
    app.handle(Key("?"))
    var frame = app.render(width: 100, height: 30).text()
    XCTAssertFalse(frame.contains("walk to the selected node"), "the graph view's keys are below the box at first")
    for _ in 0..<4 { app.handle(.pageDown) }
    frame = app.render(width: 100, height: 30).text()
    XCTAssertTrue(app.isShowingHelp, "scrolling keeps the help open")
    XCTAssertTrue(frame.contains("walk to the selected node"), frame)
    XCTAssertFalse(frame.contains("tab / shift-tab"), "the first keys scrolled off:\n\(frame)")
    XCTAssertTrue(frame.contains("j/k scroll"), frame)
    assertGolden(frame, "help-scrolled-100x30")
    app.handle(Key("x"))
    XCTAssertFalse(app.isShowingHelp)
  }

  func testCommandKeysReachTheSession() {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    for key in "nacu" { app.handle(Key(key)) }
    XCTAssertEqual(session.commands, ["next", "all", "cancel", "undo"])
    XCTAssertFalse(app.handle(Key("q")))
    XCTAssertTrue(app.wantsQuit)
  }

  func testTabMovesFocusAndArrowsSelect() {
    let app = makeApp()
    let home = app.top as! HomeScreen
    app.handle(.down)
    app.handle(Key("j"))
    XCTAssertEqual(home.selectedLayer, 2)
    app.handle(.down)
    XCTAssertEqual(home.selectedLayer, 2, "stops at the last row")
    app.handle(.tab)
    XCTAssertEqual(home.focus, .pipeline)
    app.handle(.backTab)
    app.handle(.backTab)
    XCTAssertEqual(home.focus, .charts)
  }

  func testEnterOpensLayerDetail() {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(.down)
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["detail fc1"])
    assertGolden(app.render(width: 120, height: 34).text(), "layer-detail-120x34")
    app.handle(.escape)
    XCTAssertTrue(app.top is HomeScreen)
  }

  /// `j`/`k` walk the layers that have weights (relu1 has none), `s` toggles the histograms'
  /// log scale; "before" names the step that changed the layer.
  func testLayerDetailMovesBetweenLayersAndTogglesLogScale() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(.down)
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(app.top.title, "layer fc1")
    app.handle(Key("k"))
    XCTAssertEqual(app.top.title, "layer conv1", "relu1 has no weights and is skipped")
    app.handle(Key("k"))
    XCTAssertEqual(app.top.title, "layer conv1", "the first layer stays")
    app.handle(Key("j"))
    XCTAssertEqual(app.top.title, "layer fc1")
    let linear = app.render(width: 80, height: 24).text()
    XCTAssertTrue(linear.contains("Weights before prune-50"), linear)
    app.handle(Key("s"))
    let screen = try XCTUnwrap(app.top as? LayerDetailScreen)
    XCTAssertTrue(screen.logScale)
    let log = app.render(width: 80, height: 24).text()
    XCTAssertTrue(log.contains("log scale") && log.contains("s linear scale"), log)
    XCTAssertNotEqual(linear, log)
    assertGolden(log, "layer-detail-log-80x24")
    assertGolden(app.render(width: 200, height: 60).text(), "layer-detail-log-200x60")
  }

  func testLayerWithoutWeightsStaysHome() {
    let app = makeApp()
    app.handle(.down)
    app.handle(.enter)
    XCTAssertTrue(app.top is HomeScreen)
    XCTAssertTrue(app.render(width: 80, height: 24).text().contains("relu1 has no weights to show"))
  }

  func testTrainingMonitorAndCancel() {
    let session = FakeWorkbenchSession()
    session.startTraining()
    let app = makeApp(session)
    app.handle(Key("m"))
    assertGolden(app.render(width: 100, height: 30, tick: 3).text(), "training-100x30")
    app.handle(Key("c"))
    XCTAssertEqual(session.commands, ["cancel"])
  }

  /// The monitor's empty text says "Run a step with n, or a to run all": both work there.
  func testTheTrainingMonitorRunsSteps() {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("m"))
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("Run a step with n"))
    app.handle(Key("n"))
    app.handle(Key("a"))
    XCTAssertEqual(session.commands, ["next", "all"])
    XCTAssertTrue(app.top is TrainingMonitorScreen, "the keys run steps without leaving the monitor")
  }

  func testRunningStepShowsProgressOnHome() {
    let session = FakeWorkbenchSession()
    session.startTraining()
    let text = makeApp(session).render(width: 140, height: 36, tick: 0).text()
    XCTAssertTrue(text.contains("⠋ working"), text)
    XCTAssertTrue(text.contains("40%"))
  }

  func testCompareShowsTwoSnapshots() {
    let app = makeApp()
    app.handle(Key("v"))
    assertGolden(app.render(width: 120, height: 24).text(), "compare-120x24")
  }

  func testEditorAddsValidatesAndApplies() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("e"))
    let editor = try XCTUnwrap(app.top as? StepEditorScreen)
    // Add an int8 step after the first one.
    app.handle(Key("a"))
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(editor.specs.map(\.technique), ["magnitude-prune", "int8-quantize", "int8-quantize"])
    XCTAssertEqual(editor.specs[1]["calibration"], .int(256), "new steps start from defaults")
    // Edit calibration: an out-of-range value is refused with a message, a good one is kept.
    app.handle(.down)
    app.handle(.enter)
    XCTAssertTrue(editor.capturesText)
    for _ in 0..<3 { app.handle(.backspace) }
    for key in "0" { app.handle(Key(key)) }
    app.handle(.enter)
    XCTAssertEqual(editor.error, "calibration: must be in 1...10000")
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("calibration: must be in 1...10000"))
    app.handle(.backspace)
    for key in "64" { app.handle(Key(key)) }
    app.handle(.enter)
    XCTAssertNil(editor.error)
    XCTAssertEqual(editor.specs[1]["calibration"], .int(64))
    app.handle(.tab)
    app.handle(Key("K"))
    XCTAssertEqual(editor.specs.map(\.technique), ["int8-quantize", "magnitude-prune", "int8-quantize"])
    assertGolden(app.render(width: 100, height: 30).text(), "editor-100x30")
    app.handle(Key("s"))
    XCTAssertEqual(session.commands, ["replace int8-quantize,prune-50,int8"])
    app.handle(Key("w"))
    app.handle(.enter)
    XCTAssertEqual(session.commands.last, "save pipeline.yaml")
  }

  /// Per-layer and list settings are typed as YAML and checked by the library as they are
  /// entered, not turned into text and refused only when the pipeline is applied.
  func testEditorReadsPerLayerMapsAndListsAsTheirKinds() throws {
    let session = FakeWorkbenchSession()
    session.techniques = [
      TechniqueDescriptor(
        name: "magnitude-prune", summary: "zero the smallest weights",
        parameters: [
          ParameterDescriptor("sparsity", .perLayerFloat(0...0.99), default: .float(0.5), help: "per layer"),
          ParameterDescriptor("layers", .list, default: nil, help: "which layers"),
        ])
    ]
    let app = makeApp(session)
    app.handle(Key("e"))
    let editor = try XCTUnwrap(app.top as? StepEditorScreen)
    func type(_ text: String, intoField field: Int) {
      app.handle(.tab)
      for _ in 0..<field { app.handle(.down) }
      app.handle(.enter)
      for _ in 0..<20 { app.handle(.backspace) }
      for key in text { app.handle(Key(key)) }
      app.handle(.enter)
    }
    type("{fc1: 1.5}", intoField: 1)
    XCTAssertEqual(editor.error, "sparsity: fc1: must be in 0.0...0.99")
    app.handle(.escape)
    app.handle(.tab)
    type("{fc1: 0.9, conv1: 0.3}", intoField: 1)
    XCTAssertNil(editor.error)
    XCTAssertEqual(
      editor.specs[0]["sparsity"], .map([(key: "fc1", value: .float(0.9)), (key: "conv1", value: .float(0.3))]))
    app.handle(.tab)
    type("fc1, conv1", intoField: 2)
    XCTAssertNil(editor.error)
    XCTAssertEqual(editor.specs[0]["layers"], .list([.string("fc1"), .string("conv1")]))
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("[fc1, conv1]"))
  }

  /// Enter toggles a bool; a choice is typed (what the workbench always did with the engine's
  /// techniques, and what the tutorials tell the learner) and checked against its options.
  func testEditorTogglesBoolsAndEditsChoices() throws {
    let app = makeApp()
    app.handle(Key("e"))
    let editor = try XCTUnwrap(app.top as? StepEditorScreen)
    app.handle(.tab)
    app.handle(.down)
    app.handle(.down)
    app.handle(.enter)
    XCTAssertTrue(editor.capturesText)
    for _ in 0..<5 { app.handle(.backspace) }
    for key in "all" { app.handle(Key(key)) }
    app.handle(.enter)
    XCTAssertEqual(editor.error, "scope: one of layer, global")
    for _ in 0..<3 { app.handle(.backspace) }
    for key in "global" { app.handle(Key(key)) }
    app.handle(.enter)
    XCTAssertNil(editor.error)
    XCTAssertEqual(editor.specs[0]["scope"], .string("global"))
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(editor.specs[0]["finetune"], .bool(false))
    // Typing "q" into a text field must not quit.
    for _ in 0..<3 { app.handle(.up) }
    app.handle(.enter)
    XCTAssertTrue(editor.capturesText)
    app.handle(Key("q"))
    XCTAssertFalse(app.wantsQuit, "q typed into a field is text")
    app.handle(.enter)
    XCTAssertEqual(editor.specs[0].name, "prune-50q")
  }

  func testOpenScreenListsModelsAndOpens() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-open-\(getpid())")
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for name in ["b.safetensors", "a.onnx", "notes.md"] {
      FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data())
    }
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    let screen = OpenScreen(directory: folder)
    app.open(screen)
    XCTAssertEqual(screen.entries.map(\.name), ["..", "sub", "a.onnx", "b.safetensors"])
    app.handle(.down)
    app.handle(.down)
    app.handle(.enter)
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("dataset: mnist"), "the open dataset is offered")
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["open \(folder.appendingPathComponent("a.onnx").path) mnist"])
    XCTAssertTrue(app.top is HomeScreen)
  }

  func testThemeCycling() {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("themes")
    let app = WorkbenchApp(session: FakeWorkbenchSession(), themeLibrary: ThemeLibrary(directory: directory))
    app.handle(Key("t"))
    XCTAssertEqual(app.context.theme.name, "colorblind")
    let grid = app.render(width: 100, height: 30)
    XCTAssertEqual(grid[0, 5].style.background, RGB(0x10, 0x10, 0x10))
  }

  func testMouseClickFocusesPanelAndSelectsRow() {
    let app = makeApp()
    let home = app.top as! HomeScreen
    _ = app.render(width: 140, height: 36)
    // Pipeline panel starts below the model panel on the left; its first row is 2 below its top.
    let pipelineTop = 1 + Layout.split(33, [.weight(3), .weight(2)])[0]
    app.handle(.mouse(x: 10, y: pipelineTop + 3, button: 1))
    XCTAssertEqual(home.focus, .pipeline)
    XCTAssertEqual(home.selectedStep, 1)
  }
}
