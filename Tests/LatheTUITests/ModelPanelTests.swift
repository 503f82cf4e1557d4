import XCTest

@testable import LatheTUI

/// The Model panel on a 500-node graph (`LargeModel`), driven by keys and mouse clicks as a
/// user would, with golden frames of the big table, filtered and folded.
final class ModelPanelTests: XCTestCase {
  func makeApp(_ session: FakeWorkbenchSession = LargeModel.session()) -> (WorkbenchApp, HomeScreen) {
    let app = WorkbenchApp(
      session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
    return (app, app.top as! HomeScreen)
  }

  func type(_ text: String, into app: WorkbenchApp) { for character in text { app.handle(Key(character)) } }

  func lines(_ app: WorkbenchApp, _ width: Int, _ height: Int) -> [String] {
    app.render(width: width, height: height).text().components(separatedBy: "\n")
  }

  func selectedName(_ app: WorkbenchApp, _ home: HomeScreen) -> String? {
    app.state.model.map { $0.layers[home.selectedLayer].name }
  }

  func testLargeModelGoldens() {
    let (app, _) = makeApp()
    assertGolden(app.render(width: 200, height: 60).text(), "model-500-200x60")
    assertGolden(app.render(width: 80, height: 24).text(), "model-500-80x24")
  }

  /// `/` takes the keyboard (letters that are commands elsewhere are text), the filter shows in
  /// a line with the match count, enter keeps it, and esc clears it.
  func testSlashFiltersAsYouTypeEnterKeepsItAndEscClears() {
    let session = LargeModel.session()
    let (app, home) = makeApp(session)
    app.handle(Key("/"))
    XCTAssertTrue(home.capturesText)
    type("add", into: app)
    XCTAssertEqual(session.commands, [], "a and d went to the filter, not to run-all")
    assertGolden(app.render(width: 80, height: 24).text(), "model-500-filtered-80x24")
    let typing = lines(app, 80, 24)
    XCTAssertTrue(
      typing.contains { $0.contains("/ add") && $0.contains("62 of 490 layers match") }, typing.joined(separator: "\n"))
    XCTAssertTrue(typing.last?.contains("enter keep filter") == true, typing.last ?? "")
    XCTAssertEqual(selectedName(app, home), "/model.1/Add", "a new filter starts at the first match")
    app.handle(.enter)
    XCTAssertFalse(home.capturesText)
    assertGolden(app.render(width: 200, height: 60).text(), "model-500-filtered-200x60")
    app.handle(Key("n"))
    XCTAssertEqual(session.commands, ["next"], "after enter, keys are commands again")
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("/ add") }, "the kept filter stays on screen")
    app.handle(.escape)
    XCTAssertFalse(lines(app, 80, 24).contains { $0.contains("layers match") })
    XCTAssertTrue(app.top is HomeScreen)
    // Esc while typing drops the filter too.
    app.handle(Key("/"))
    type("zzz", into: app)
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("0 of 490 layers match") })
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("No layer matches \"zzz\"; esc clears the filter.") })
    app.handle(.escape)
    XCTAssertFalse(home.capturesText)
    XCTAssertFalse(lines(app, 80, 24).contains { $0.contains("layers match") })
  }

  /// `-` folds every block into its group row (with summed bytes), `=` unfolds them, space and
  /// h/l fold one block; the selection moves onto the group row that hid it.
  func testFoldingBlocks() throws {
    let (app, home) = makeApp()
    app.handle(.down)
    app.handle(.down)
    XCTAssertEqual(selectedName(app, home), "/model.0/act/Relu")
    app.handle(Key("-"))
    assertGolden(app.render(width: 200, height: 60).text(), "model-500-folded-200x60")
    assertGolden(app.render(width: 80, height: 24).text(), "model-500-folded-80x24")
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("1/64 · 490 layers") }, "64 group rows")
    app.handle(.down)
    app.handle(Key("l"))
    let open = lines(app, 200, 60)
    XCTAssertTrue(open.contains { $0.contains("▾ /model.1/* (7)") }, open.joined(separator: "\n"))
    XCTAssertTrue(open.contains { $0.contains("▸ /model.2/* (7)") })
    app.handle(.down)
    XCTAssertEqual(selectedName(app, home), "/model.1/cv1/conv/Conv")
    app.handle(Key("h"))
    XCTAssertTrue(lines(app, 200, 60).contains { $0.contains("▸ /model.1/* (7)") }, "h on a member folds its block")
    XCTAssertEqual(home.modelPanel.selectedBlock, "/model.1/")
    app.handle(Key(" "))
    XCTAssertTrue(lines(app, 200, 60).contains { $0.contains("▾ /model.1/* (7)") }, "space toggles")
    app.handle(.enter)
    XCTAssertTrue(lines(app, 200, 60).contains { $0.contains("▸ /model.1/* (7)") }, "enter on a group row toggles")
    app.handle(Key("="))
    XCTAssertTrue(lines(app, 200, 60).contains { $0.contains("▾ /model.2/* (7)") })
  }

  /// g/G/home/end jump, page keys move by ten, and the panel's note says where the selection is.
  func testJumpsAndThePositionIndicator() {
    let (app, home) = makeApp()
    app.handle(Key("G"))
    XCTAssertEqual(selectedName(app, home), "/head/Gemm")
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("554/554 · 490 layers") }, "490 layers and 64 group rows")
    app.handle(.home)
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("1/554 · 490 layers") })
    app.handle(.pageDown)
    XCTAssertTrue(lines(app, 80, 24).contains { $0.contains("11/554") })
    app.handle(.end)
    app.handle(Key("g"))
    XCTAssertEqual(home.modelPanel.selectedRow, 0)
  }

  /// `S` cycles the order, named in the title: by bytes the heaviest block comes first.
  func testSortCyclesAndShowsInTheTitle() throws {
    let (app, home) = makeApp()
    app.handle(Key("S"))
    let frame = lines(app, 200, 60)
    XCTAssertTrue(frame[1].contains("Model · yolo-500 · by bytes ▼"), frame[1])
    XCTAssertEqual(home.modelPanel.selectedBlock, "/model.0/", "the selection stays on its row")
    app.handle(Key("g"))
    let blocks = LayerBlock.blocks(of: app.state.model!.layers)
    let bytes = { (block: LayerBlock) in block.members.reduce(0) { $0 + app.state.model!.layers[$1].bytes } }
    XCTAssertEqual(home.modelPanel.selectedBlock, blocks.max { bytes($0) < bytes($1) }?.prefix)
    for _ in 0..<4 { app.handle(Key("S")) }
    XCTAssertTrue(lines(app, 200, 60)[1].contains("Model · yolo-500 ━"), "back to graph order")
  }

  /// A click selects the row drawn under the mouse, filtered and scrolled to the end.
  func testClicksSelectTheDrawnRowWhenFilteredAndScrolled() throws {
    let (app, home) = makeApp()
    app.handle(Key("/"))
    type("conv", into: app)
    app.handle(.enter)
    app.handle(Key("G"))
    var frame = lines(app, 200, 60)
    for target in ["cv2/conv/Conv", "m/conv/Conv", "cv1/conv/Conv"] {
      let y = try XCTUnwrap(frame.lastIndex { $0.contains("  \(target)") }, frame.joined(separator: "\n"))
      let group = try XCTUnwrap(frame[..<y].lastIndex { $0.contains("▾ /model.") })
      let prefix = try XCTUnwrap(frame[group].range(of: "/model.[0-9]+/", options: .regularExpression))
      app.handle(.mouse(x: 10, y: y, button: 1))
      XCTAssertEqual(selectedName(app, home), String(frame[group][prefix]) + target)
      frame = lines(app, 200, 60)
    }
    let row = home.modelPanel.selectedRow
    let y = try XCTUnwrap(frame.firstIndex { $0.contains("▾ /model.") })
    app.handle(.mouse(x: 10, y: y, button: 1))
    XCTAssertNotEqual(home.modelPanel.selectedRow, row)
    XCTAssertNotNil(home.modelPanel.selectedBlock, "a group row is selected by clicking it")
  }

  /// A ReLU folded into a pruned or int8 layer shows in that layer's op; time and SQNR columns
  /// show each layer's share and output error.
  func testFoldedActivationsTimeAndErrorShowInTheRow() throws {
    let (app, _) = makeApp()
    app.handle(Key("/"))
    type("model.1/cv1", into: app)
    let frame = lines(app, 200, 60)
    let header = try XCTUnwrap(frame.first { $0.contains("layer") && $0.contains("kernel") })
    XCTAssertTrue(header.contains("time") && header.contains("SQNR"), header)
    let conv = try XCTUnwrap(frame.first { $0.contains("cv1/conv/Conv") }, frame.joined(separator: "\n"))
    XCTAssertTrue(conv.contains("conv2d+relu"), conv)
    XCTAssertTrue(conv.contains(" 16 "), "the fixture's SQNR for block 1: \(conv)")
  }

  /// `?` on a wide terminal lists every key of the model panel and the graph view in full.
  func testHelpListsThePanelAndGraphKeys() {
    let (app, _) = makeApp()
    app.handle(Key("?"))
    let frame = app.render(width: 160, height: 50).text()
    for label in [
      "filter layers by name or op", "first / last layer", "fold a block / all blocks", "sort: bytes, time, KL, SQNR",
      "graph view of the layer", "Graph", "walk to the selected node", "back to the previous centre",
      "click panel / row",
    ] {
      XCTAssertTrue(frame.contains(label), "\(label) missing:\n\(frame)")
    }
  }

  func testIOpensTheGraphOnTheSelectedLayer() throws {
    let (app, _) = makeApp()
    app.handle(Key("/"))
    type("model.4/m/conv", into: app)
    app.handle(.enter)
    app.handle(Key("i"))
    let graph = try XCTUnwrap(app.top as? GraphScreen)
    XCTAssertEqual(graph.centre, "/model.4/m/conv/Conv")
    app.handle(.escape)
    XCTAssertTrue(app.top is HomeScreen)
  }
}
