import XCTest

@testable import LatheTUI

/// The graph view on the 500-node fixture: neighbours with shapes, walking with the keys and
/// the mouse, and the marks of what the step changed.
final class GraphScreenTests: XCTestCase {
  func makeApp(centre: String) -> (WorkbenchApp, GraphScreen) {
    let app = WorkbenchApp(
      session: LargeModel.session(), theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
    let screen = GraphScreen(layer: centre)
    app.open(screen)
    return (app, screen)
  }

  func frame(_ app: WorkbenchApp, _ width: Int = 200, _ height: Int = 60) -> String {
    app.render(width: width, height: height).text()
  }

  func testGoldens() {
    let (app, _) = makeApp(centre: "/model.3/cv1/conv/Conv")
    assertGolden(frame(app), "graph-200x60")
    assertGolden(frame(app, 80, 24), "graph-80x24")
  }

  /// The centre's inputs and outputs are the real edges, a folded ReLU included: the Concat
  /// that read the ReLU now reads the conv.
  func testNeighboursAndChangesOfAConvWithAFoldedReLU() {
    let (app, _) = makeApp(centre: "/model.3/cv1/conv/Conv")
    let text = frame(app)
    XCTAssertTrue(text.contains("/model.2/Concat"), text)
    XCTAssertTrue(text.contains("/model.3/Concat"), text)
    XCTAssertFalse(text.contains("/model.3/cv1/act/Relu ") && !text.contains("folded into"), text)
    XCTAssertTrue(text.contains("conv2d+relu"), text)
    XCTAssertTrue(text.contains("● bits 32 → 8"), text)
    XCTAssertTrue(text.contains("● node /model.3/cv1/act/Relu folded into this layer"), text)
    XCTAssertTrue(text.contains("1x64x80x80"), "shapes of the neighbours and the centre: \(text)")
  }

  /// l/h pick the side, j/k the node, enter walks to it and backspace walks back.
  func testWalkingTheGraph() {
    let (app, screen) = makeApp(centre: "/model.5/cv2/conv/Conv")
    XCTAssertEqual(screen.side, .outputs)
    app.handle(.enter)
    XCTAssertEqual(screen.centre, "/model.5/cv2/act/Relu")
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(screen.centre, "/model.5/Add", "the ReLU's second reader")
    app.handle(Key("h"))
    XCTAssertEqual(screen.side, .inputs)
    app.handle(Key("j"))
    app.handle(.enter)
    XCTAssertEqual(screen.centre, "/model.5/m/act/Relu")
    XCTAssertEqual(screen.history, ["/model.5/cv2/conv/Conv", "/model.5/cv2/act/Relu", "/model.5/Add"])
    XCTAssertTrue(frame(app).contains("3 back"))
    app.handle(.backspace)
    app.handle(.backspace)
    XCTAssertEqual(screen.centre, "/model.5/cv2/act/Relu")
    app.handle(.tab)
    XCTAssertEqual(screen.side, .outputs)
    app.handle(.escape)
    XCTAssertTrue(app.top is HomeScreen)
  }

  func testTheModelInputIsShownButNotWalkedTo() {
    let (app, screen) = makeApp(centre: "/model.0/conv/Conv")
    app.handle(Key("h"))
    app.handle(.enter)
    XCTAssertEqual(screen.centre, "/model.0/conv/Conv")
    let text = frame(app, 80, 24)
    XCTAssertTrue(text.contains("images") && text.contains("model input"), text)
    XCTAssertTrue(text.contains("one of the model's inputs"), text)
  }

  /// A click selects a neighbour; a second click on it walks there.
  func testClickingANeighbour() throws {
    let (app, screen) = makeApp(centre: "/model.6/cv2/act/Relu")
    let lines = frame(app).components(separatedBy: "\n")
    let y = try XCTUnwrap(lines.firstIndex { $0.contains("/model.6/Add") })
    let x = try XCTUnwrap(lines[y].range(of: "/model.6/Add")).lowerBound.utf16Offset(in: lines[y])
    app.handle(.mouse(x: x, y: y, button: 1))
    XCTAssertEqual(screen.selected, 1)
    XCTAssertEqual(screen.centre, "/model.6/cv2/act/Relu")
    app.handle(.mouse(x: x, y: y, button: 1))
    XCTAssertEqual(screen.centre, "/model.6/Add")
  }

  func testALayerThatLeftTheModelSaysSo() {
    let (app, _) = makeApp(centre: "/model.3/cv1/act/Relu")
    XCTAssertTrue(frame(app, 80, 24).contains("is not in the model any more"))
  }
}
