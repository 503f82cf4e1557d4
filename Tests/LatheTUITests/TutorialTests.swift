import Foundation
import LatheCompress
import XCTest

@testable import LatheTUI

/// Tutorial files, placeholders, checks and progress, against the fake session; the side panel
/// as golden text.
final class TutorialTests: XCTestCase {
  static let sample = """
    title: Test tour
    summary: A short one.
    minutes: 2
    model: lenet-5
    dataset: mnist
    pipeline: pipelines/test.yaml
    steps:
      - text: |
          The model is {model} at {accuracy}.
        do: Press ] to go on.
      - text: Prune to 80%.
        do: Set sparsity of prune-50 to 0.8 and run it.
        check:
          setting: {prune-50.sparsity: 0.8}
          done: prune-50
        hints:
          - Press e to edit.
          - Then s to apply and n to run.
        keep:
          before: "{step.prune-50.accuracy}"
        done: Accuracy {baseline.accuracy} -> {step.prune-50.accuracy}, fc1 {layer.fc1.sparsity} zeros.
    closing: Kept {kept.before}.
    """

  func parse(_ text: String = sample) throws -> Tutorial {
    try TutorialFile.parse(text, file: "/t/tutorials/test.yaml", name: "test")
  }

  func testParsesEveryField() throws {
    let tutorial = try parse()
    XCTAssertEqual(tutorial.title, "Test tour")
    XCTAssertEqual(tutorial.minutes, 2)
    XCTAssertEqual(tutorial.pipeline, "/t/tutorials/pipelines/test.yaml", "relative to the tutorial file")
    XCTAssertEqual(tutorial.steps.count, 2)
    XCTAssertEqual(
      tutorial.steps[1].checks, [.setting(step: "prune-50", key: "sparsity", value: "0.8"), .stepDone("prune-50")])
    XCTAssertEqual(tutorial.steps[1].hints.count, 2)
    XCTAssertEqual(tutorial.steps[1].keep, [KeptValue(name: "before", placeholder: "{step.prune-50.accuracy}")])
    XCTAssertEqual(tutorial.steps[1].line, 11)
  }

  func testErrorsNameFileLineAndKey() {
    func error(_ text: String) -> String {
      do {
        _ = try parse(text)
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    XCTAssertEqual(
      error(Self.sample.replacingOccurrences(of: "{model}", with: "{modle}")),
      "/t/tutorials/test.yaml:8: text: unknown placeholder {modle}; known: accuracy, dataset, latency, model, params, "
        + "size, sparsity")
    XCTAssertEqual(
      error(Self.sample.replacingOccurrences(of: "done: prune-50", with: "finished: prune-50")),
      "/t/tutorials/test.yaml:15: check.finished: unknown check; known: done, setting, accuracy_above, kernel, "
        + "sparsity_above, pressed, screen, model, search_complete")
    XCTAssertTrue(
      error(Self.sample.replacingOccurrences(of: "minutes: 2", with: "minutes: soon")).hasPrefix(
        "/t/tutorials/test.yaml:3: minutes:"))
    XCTAssertTrue(error("title: x\nsteps: [").contains("not valid YAML"))
  }

  func testEveryBundledTutorialParses() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let library = TutorialLibrary(directory: root.appendingPathComponent("samples/tutorials"))
    XCTAssertGreaterThanOrEqual(library.names().count, 5)
    for entry in library.all() {
      if case .failure(let error) = entry.tutorial { XCTFail("\(error)") }
    }
    XCTAssertEqual(try library.load("first-tour").name, "1-first-tour", "found without its number")
    XCTAssertThrowsError(try library.load("nope"))
  }

  func testPlaceholdersFillFromTheState() {
    let session = FakeWorkbenchSession()
    let context = TutorialContext(state: session.state, pipeline: session.pipeline, techniques: session.techniques)
    let text =
      "{model} {accuracy} {size} {baseline.accuracy} {step.prune-50.accuracy} {step.prune-50.ratio} "
      + "{step.prune-50.sparsity} {layer.fc1.sparsity} {layer.fc1.kernel} {step.int8.accuracy} {kept.x}"
    XCTAssertEqual(
      Placeholders.fill(text, context, kept: ["x": "kept!"]),
      "lenet-5 97.5% 24.7 kB 98.1% 97.5% 2.0x 0.5 50% sparse-csr … kept!")
  }

  func testSearchChecksAndPlaceholders() {
    let session = FakeWorkbenchSession()
    var context = TutorialContext(state: session.state, pipeline: session.pipeline)
    XCTAssertEqual(
      TutorialCheck.searchComplete(3).evaluate(context), .waiting("no study yet: s opens the Search screen"))
    XCTAssertEqual(Placeholders.value("search.best", context), Placeholders.missing)
    context.state.search = FakeWorkbenchSession.study
    XCTAssertEqual(TutorialCheck.searchComplete(3).evaluate(context), .met)
    XCTAssertEqual(TutorialCheck.searchComplete(4).evaluate(context), .waiting("3 of 4 trials complete"))
    context.state.search?.isRunning = false
    if case .blocked(let why) = TutorialCheck.searchComplete(4).evaluate(context) {
      XCTAssertTrue(why.contains("ended with 3 complete trials") && why.contains("press n"), why)
    } else {
      XCTFail("an ended study short of trials blocks")
    }
    XCTAssertEqual(
      Placeholders.fill(
        "{search.complete}/{search.trials}: trial {search.best}, {search.best.accuracy} at {search.best.size}, "
          + "{search.best.latency}", context),
      "3/12: trial 1, 94.8% at 64.2 kB, 61µs")
    XCTAssertNil(Placeholders.problem("search.best.size"))
    XCTAssertNotNil(Placeholders.problem("search.worst"))
    XCTAssertEqual(
      TutorialCheck.modelNamed("trial").evaluate(context), .waiting("the model is lenet-5, not one named trial"))
    context.state.model?.name = "search-pruning trial 1"
    XCTAssertEqual(TutorialCheck.modelNamed("trial").evaluate(context), .met)
  }

  func testChecksAgainstFakeStates() {
    let session = FakeWorkbenchSession()
    var context = TutorialContext(state: session.state, pipeline: session.pipeline, techniques: session.techniques)
    XCTAssertEqual(TutorialCheck.stepDone("prune-50").evaluate(context), .met)
    XCTAssertEqual(TutorialCheck.stepDone("int8").evaluate(context), .waiting("step int8 has not run yet"))
    XCTAssertEqual(
      TutorialCheck.setting(step: "prune-50", key: "sparsity", value: "0.50").evaluate(context), .met,
      "numbers compare as numbers")
    XCTAssertEqual(
      TutorialCheck.setting(step: "prune-50", key: "scope", value: "layer").evaluate(context), .met,
      "an unset setting is its default")
    XCTAssertEqual(TutorialCheck.accuracyAbove(0.97).evaluate(context), .met)
    XCTAssertEqual(TutorialCheck.layerKernel(layer: "fc1", contains: "sparse").evaluate(context), .met)
    XCTAssertEqual(
      TutorialCheck.layerSparsityAbove(layer: "fc1", 0.7).evaluate(context),
      .waiting(
        "fc1 is 50% zeros, not above 70%"))
    if case .blocked(let why) = TutorialCheck.stepDone("gone").evaluate(context) {
      XCTAssertTrue(why.contains("restart the tutorial"), why)
    } else {
      XCTFail("a missing step blocks")
    }
    context.state.steps[1].state = .failed("out of memory")
    if case .blocked(let why) = TutorialCheck.stepDone("int8").evaluate(context) {
      XCTAssertTrue(why.contains("out of memory") && why.contains("n to run it again"), why)
    } else {
      XCTFail("a failed step blocks")
    }
  }

  func testProgressIsSavedAtomicallyAndReadBack() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-tut-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = TutorialProgressStore(url: folder.appendingPathComponent("lathe/tutorials.json"))
    XCTAssertEqual(store.load(), TutorialProgress(), "nothing saved yet")
    try store.update("a") { $0.step = 3 }
    try store.update("b") { $0.completed = true }
    XCTAssertEqual(store.load().tutorials["a"]?.step, 3)
    XCTAssertEqual(store.load().tutorials["b"]?.completed, true)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("lathe").path)
    XCTAssertEqual(leftovers, ["tutorials.json"], "no temporary file left behind")
    XCTAssertEqual(
      TutorialProgressStore.standard(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]).url.path,
      "/s/lathe/tutorials.json")
    XCTAssertEqual(
      TutorialProgressStore.standard(environment: ["HOME": "/h"]).url.path, "/h/.local/state/lathe/tutorials.json")
  }

  func makeApp(_ session: FakeWorkbenchSession, store: TutorialProgressStore? = nil) -> WorkbenchApp {
    WorkbenchApp(
      session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode,
      progressStore: store)
  }

  func testPanelWalksThroughStepsWithHints() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.startTutorial(try parse())
    XCTAssertEqual(session.commands, ["open lenet-5 mnist"])
    assertGolden(app.render(width: 140, height: 36).text(), "tutorial-step1-140x36")
    app.handle(Key("]"))
    XCTAssertEqual(app.tutorial?.index, 1)
    // Going on too early: the reason on the status line and the first hint in the panel.
    app.handle(Key("]"))
    XCTAssertEqual(app.tutorial?.index, 1)
    var frame = app.render(width: 140, height: 36).text()
    XCTAssertTrue(frame.contains("not yet: sparsity of prune-50 is 0.5, not 0.8"), frame)
    XCTAssertTrue(frame.contains("Hint 1: Press e to edit."), frame)
    // The learner applies the change and the step runs: checks hold, the done text has the numbers.
    session.pipeline[0].set("sparsity", to: .float(0.8))
    session.state.revision += 1
    frame = app.render(width: 140, height: 36).text()
    XCTAssertTrue(frame.contains("✓ Done."), frame)
    assertGolden(frame, "tutorial-done-140x36")
    app.handle(Key("]"))
    frame = app.render(width: 140, height: 36).text()
    XCTAssertTrue(frame.contains("Kept 97.5%."), frame)
    // X leaves; the workbench stays and keys reach it again.
    app.handle(Key("X"))
    XCTAssertNil(app.tutorial)
    app.handle(Key("n"))
    XCTAssertEqual(session.commands.last, "next")
  }

  func testOpenFailureIsExplainedAndLeavable() throws {
    let session = FakeWorkbenchSession()
    session.failOpen = true
    let app = makeApp(session)
    app.startTutorial(try parse())
    let frame = app.render(width: 120, height: 30).text()
    XCTAssertTrue(frame.contains("Could not open"), frame)
    XCTAssertTrue(frame.contains("not a model file"), frame)
    app.handle(Key("X"))
    XCTAssertNil(app.tutorial)
  }

  func testProgressIsRememberedAndRestartable() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-tut-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = TutorialProgressStore(url: folder.appendingPathComponent("tutorials.json"))
    let tutorial = try parse()
    var app = makeApp(FakeWorkbenchSession(), store: store)
    app.startTutorial(tutorial)
    app.handle(Key("]"))
    XCTAssertEqual(store.load().tutorials["test"]?.step, 1)
    app = makeApp(FakeWorkbenchSession(), store: store)
    app.startTutorial(tutorial)
    XCTAssertEqual(app.tutorial?.index, 1, "resumed")
    XCTAssertTrue(app.render(width: 140, height: 36).text().contains("Resumed here"))
    app.startTutorial(tutorial, restart: true)
    XCTAssertEqual(app.tutorial?.index, 0, "restarted")
  }

  func testTListsTutorialsAndEnterStartsOne() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let session = FakeWorkbenchSession()
    let app = WorkbenchApp(
      session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode,
      tutorials: TutorialLibrary(directory: root.appendingPathComponent("samples/tutorials")))
    app.handle(Key("T"))
    XCTAssertTrue(app.top is TutorialListScreen)
    let frame = app.render(width: 120, height: 30).text()
    XCTAssertTrue(frame.contains("First tour of the workbench") && frame.contains("Deep Compression"), frame)
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["open digits-mlp digits"])
    XCTAssertTrue(app.top is HomeScreen)
    XCTAssertEqual(app.tutorial?.tutorial.name, "1-first-tour")
  }

  /// With no tutorial files the list says so, and enter or r does nothing (they indexed an
  /// empty list and trapped).
  func testAnEmptyTutorialListIgnoresEnter() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-no-tutorials-\(UUID())")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    let app = WorkbenchApp(
      session: FakeWorkbenchSession(), theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode,
      tutorials: TutorialLibrary(directory: empty))
    app.handle(Key("T"))
    XCTAssertTrue(app.top is TutorialListScreen)
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("No tutorials found"))
    app.handle(.enter)
    app.handle(Key("r"))
    XCTAssertTrue(app.top is TutorialListScreen)
    XCTAssertNil(app.tutorial)
  }
}

/// `{if A OP B}…{else}…{end}`: tutorial lessons follow the learner's numbers.
final class LessonConditionTests: XCTestCase {
  func testNumbersAreReadAsThePanelsPrintThem() {
    XCTAssertEqual(LessonCondition.number(displayed: "13.7k"), 13_700)
    XCTAssertEqual(LessonCondition.number(displayed: "97.20%"), 97.2)
    XCTAssertEqual(LessonCondition.number(displayed: "1.07 MB"), 1_070_000)
    XCTAssertEqual(LessonCondition.number(displayed: "812 µs")!, 0.000812, accuracy: 1e-12)
    XCTAssertEqual(LessonCondition.number(displayed: "4.48 ms")!, 0.00448, accuracy: 1e-12)
    XCTAssertNil(LessonCondition.number(displayed: Placeholders.missing))
    XCTAssertNil(LessonCondition.number(displayed: "csr-spmm"))
  }

  func testOperatorsCompareAsWritten() throws {
    let values = ["a": "13.6k", "b": "13.7k", "c": "97.20%", "d": "97.20%", "e": "1.00 ms", "f": "812 µs"]
    func holds(_ text: String) throws -> Bool {
      try XCTUnwrap(LessonCondition(text), text).holds { values[$0] ?? Placeholders.missing }
    }
    XCTAssertTrue(try holds("a < b"))
    XCTAssertFalse(try holds("b >> a"), "0.7% more is not a difference worth a sentence")
    XCTAssertTrue(try holds("a ~ b"))
    XCTAssertTrue(try holds("c == d"))
    XCTAssertTrue(try holds("e >> f"), "1 ms is clearly more than 812 µs")
    XCTAssertTrue(try holds("f <= e"))
    XCTAssertTrue(try holds("a > 13000"))
    XCTAssertFalse(try holds("missing.x > a"), "a value not measured yet never holds")
    XCTAssertFalse(try holds("a != 13600"))
    XCTAssertNil(LessonCondition("a <> b"))
    XCTAssertNil(LessonCondition("a <"))
  }

  func testBlocksChooseTheTextAndMalformedOnesAreRefused() throws {
    let text = "Per-channel kept {kept.x}. {if kept.x >> kept.y}Many rounded to zero.{else}Hardly any.{end} Done."
    let context = TutorialContext(state: WorkbenchState(), pipeline: [])
    XCTAssertEqual(
      Placeholders.fill(text, context, kept: ["x": "20.0k", "y": "13.6k"]),
      "Per-channel kept 20.0k. Many rounded to zero. Done.")
    XCTAssertEqual(
      Placeholders.fill(text, context, kept: ["x": "13.7k", "y": "13.6k"]), "Per-channel kept 13.7k. Hardly any. Done.")
    XCTAssertNil(Placeholders.blockProblem(in: text))
    XCTAssertNotNil(Placeholders.blockProblem(in: "{if a > b}x"))
    XCTAssertNotNil(Placeholders.blockProblem(in: "x{end}"))
    XCTAssertNotNil(Placeholders.blockProblem(in: "{if a > b}{if b > a}{end}{end}"))
    XCTAssertNotNil(Placeholders.problem("if kept.x <> kept.y"))
    XCTAssertNotNil(Placeholders.problem("if nosuch.thing > 1"))
    XCTAssertNil(Placeholders.problem("if step.int8.nonzeros >> kept.nonzeros"))
  }
}
