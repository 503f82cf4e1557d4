import LatheCompress
import XCTest

/// What the step editor's fields accept: every parameter kind read from typed text, with the
/// reasons it shows for text that does not fit.
final class ParameterTextTests: XCTestCase {
  private func parse(_ kind: ParameterDescriptor.Kind, _ text: String) throws -> ParameterValue? {
    try ParameterDescriptor("k", kind, default: nil, help: "").parse(text)
  }

  private func reason(_ kind: ParameterDescriptor.Kind, _ text: String) -> String? {
    do {
      _ = try ParameterDescriptor("k", kind, default: nil, help: "").parse(text)
      return nil
    } catch {
      return error.description
    }
  }

  func testNumbersAreCheckedAgainstTheirRange() throws {
    XCTAssertEqual(try parse(.float(0...0.99), " 0.75 "), .float(0.75))
    XCTAssertEqual(try parse(.float(0...1), "1"), .float(1))
    XCTAssertEqual(reason(.float(0...0.99), "1.5"), "k: must be in 0.0...0.99")
    XCTAssertEqual(reason(.float(0...0.99), "abc"), "k: not a number")
    XCTAssertEqual(reason(.float(0...0.99), "nan"), "k: not a number")
    XCTAssertEqual(try parse(.int(1...10), "7"), .int(7))
    XCTAssertEqual(reason(.int(1...10), "0"), "k: must be in 1...10")
    XCTAssertEqual(reason(.int(1...10), "2.5"), "k: not a whole number")
    XCTAssertEqual(reason(.int(1...10), ""), "k: not a whole number", "a number field needs a number")
  }

  /// What the editor may do to a step without making it run again: write out a default, type a
  /// float as a whole number, reorder a per-layer map. A changed value or name does.
  func testAStepRunsTheSameWithItsDefaultsWrittenOut() {
    let technique = TechniqueDescriptor(
      name: "t", summary: "",
      parameters: [
        ParameterDescriptor("mode", .choice(["a", "b"]), default: .string("a"), help: ""),
        ParameterDescriptor("rate", .float(0...2), default: .float(0.5), help: ""),
        ParameterDescriptor("per_layer", .perLayerFloat(0...1), default: nil, help: ""),
      ])
    let file = StepSpec(
      name: "s", technique: "t",
      parameters: [("rate", .int(1)), ("per_layer", .map([("*", .float(0.9)), ("last", .float(0.5))]))])
    var edited = file
    edited.parameters = [
      ("per_layer", .map([("last", .float(0.5)), ("*", .float(0.9))])), ("rate", .float(1)), ("mode", .string("a")),
      (StepSpec.startKey, .string("previous")),
    ]
    XCTAssertTrue(technique.runsTheSame(edited, as: file))
    XCTAssertFalse(file == edited, "== still sees the difference in writing")
    var changed = edited
    changed.set("mode", to: .string("b"))
    XCTAssertFalse(technique.runsTheSame(changed, as: file))
    changed = edited
    changed.set("per_layer", to: .map([("*", .float(0.9))]))
    XCTAssertFalse(technique.runsTheSame(changed, as: file))
    changed = edited
    changed.name = "renamed"
    XCTAssertFalse(technique.runsTheSame(changed, as: file))
  }

  func testChoicesAndFlags() throws {
    XCTAssertEqual(try parse(.choice(["layer", "global"]), "global"), .string("global"))
    XCTAssertEqual(reason(.choice(["layer", "global"]), "all"), "k: one of layer, global")
    XCTAssertEqual(try parse(.bool, "no"), .bool(false))
    XCTAssertEqual(try parse(.bool, "ON"), .bool(true))
    XCTAssertEqual(reason(.bool, "maybe"), "k: true or false")
  }

  func testTextIsTrimmedAndEmptyMeansTheDefault() throws {
    XCTAssertEqual(try parse(.text, "  mlp:30 "), .string("mlp:30"))
    XCTAssertEqual(try parse(.text, "128"), .string("128"), "a text field stays text")
    XCTAssertNil(try parse(.text, "  "))
    XCTAssertNil(try parse(.list, ""))
    XCTAssertNil(try parse(.perLayerFloat(0...1), ""))
    XCTAssertNil(try parse(.perLayerInt(2...8), " "))
  }

  func testListsReadAsYAMLWithOrWithoutBrackets() throws {
    XCTAssertEqual(try parse(.list, "[fc1, fc2]"), .list([.string("fc1"), .string("fc2")]))
    XCTAssertEqual(try parse(.list, "0, 1, 2"), .list([.int(0), .int(1), .int(2)]))
    XCTAssertEqual(try parse(.list, "fc1"), .list([.string("fc1")]))
    XCTAssertTrue(reason(.list, "[fc1")?.hasPrefix("k: not valid YAML") ?? false, reason(.list, "[fc1") ?? "accepted")
  }

  func testPerLayerFloatsTakeOneValueOrAMap() throws {
    let kind = ParameterDescriptor.Kind.perLayerFloat(0...0.99)
    XCTAssertEqual(try parse(kind, "0.9"), .float(0.9))
    XCTAssertEqual(
      try parse(kind, "{fc1: 0.9, fc2: 0}"),
      .map([(key: "fc1", value: .float(0.9)), (key: "fc2", value: .float(0))]))
    XCTAssertEqual(reason(kind, "{fc1: 1.5}"), "k: fc1: must be in 0.0...0.99")
    XCTAssertEqual(reason(kind, "{fc1: high}"), "k: fc1: not a number")
    XCTAssertEqual(reason(kind, "{fc1: [0.1]}"), "k: fc1: not a single value")
    XCTAssertEqual(reason(kind, "[0.1, 0.2]"), "k: a value, or a map such as {fc1: 0.9, fc2: 0.8}")
    XCTAssertEqual(reason(kind, "lots"), "k: not a number")
  }

  func testPerLayerIntsTakeOneValueOrAMap() throws {
    let kind = ParameterDescriptor.Kind.perLayerInt(2...8)
    XCTAssertEqual(try parse(kind, "4"), .int(4))
    XCTAssertEqual(
      try parse(kind, "{fc1: 4, fc2: 8}"), .map([(key: "fc1", value: .int(4)), (key: "fc2", value: .int(8))]))
    XCTAssertEqual(reason(kind, "{fc1: 3.5}"), "k: fc1: not a whole number")
    XCTAssertEqual(reason(kind, "16"), "k: must be in 2...8")
  }

  /// What a field shows reads back to the same value, so opening and accepting a field changes nothing.
  func testShownTextReadsBackToTheSameValue() throws {
    let cases: [(ParameterDescriptor.Kind, ParameterValue)] = [
      (.int(0...16), .int(3)), (.float(0...1), .float(0.25)), (.bool, .bool(true)),
      (.choice(["a", "b"]), .string("b")),
      (.text, .string("mlp:30")), (.list, .list([.string("fc 1"), .int(2)])),
      (.perLayerFloat(0...1), .map([(key: "fc1", value: .float(0.5))])), (.perLayerInt(2...8), .int(4)),
    ]
    for (kind, value) in cases {
      let parameter = ParameterDescriptor("k", kind, default: nil, help: "")
      XCTAssertEqual(try parameter.parse(parameter.text(of: value)), value, "\(kind)")
    }
    XCTAssertEqual(ParameterDescriptor("k", .list, default: nil, help: "").text(of: nil), "")
  }

  /// Every technique's own defaults pass through a field unchanged, and a typed value passes
  /// the same check a pipeline file's value does.
  func testEveryDefaultReadsBackAndParsedValuesPassTheStepCheck() throws {
    for technique in Techniques.descriptors {
      for parameter in technique.parameters {
        guard let value = parameter.defaultValue else { continue }
        XCTAssertEqual(try parameter.parse(parameter.text(of: value)), value, "\(technique.name).\(parameter.key)")
      }
    }
    let prune = try XCTUnwrap(Techniques.descriptors.first { $0.name == "prune" })
    let sparsity = try XCTUnwrap(prune.parameters.first { $0.key == "sparsity" })
    var step = prune.defaultStep()
    step.set("sparsity", to: try sparsity.parse("{fc1: 0.9}"))
    XCTAssertNoThrow(try StepParameters(step: step, file: "editor", descriptor: prune))
  }

  func testSettingAStepKeepsItsOrder() {
    var step = StepSpec(name: "p", technique: "prune", parameters: [("a", .int(1)), ("b", .int(2))])
    step.set("a", to: .int(5))
    step.set("c", to: .bool(true))
    step.set("b", to: nil)
    XCTAssertEqual(step.parameters.map(\.key), ["a", "c"])
    XCTAssertEqual(step["a"], .int(5))
  }
}
