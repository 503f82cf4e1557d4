import Foundation
import LatheIO
import XCTest

/// `lathe eval --reference` and `--ctc`: measures that need no classifier and no labels.
extension CommandLineTests {
  /// A one-layer model file reading digits' 8x8 images as 8 time steps of 8 "classes" (the
  /// pixel rows), so its output is `[N, 8, 8]` sequence scores.
  func rowsModel(_ op: String) throws -> String {
    let description =
      #"{"architecture":"rows-\#(op)","class_count":8,"input_shape":[8,8],"#
      + #""nodes":[{"attributes":{},"inputs":["input"],"name":"\#(op)","op":"\#(op)"}],"version":1}"#
    let url = scratch.appendingPathComponent("rows-\(op).safetensors")
    try SafetensorsFile(
      metadata: ["format": "lathe", "lathe.version": "1", "lathe.model": description, "dataset": "digits"]
    ).write(to: url)
    return url.path
  }

  func testEvalAgainstItselfAgreesFullyAndKeepsTheAccuracy() throws {
    let plain = try lathe("eval", "digits-mlp", "--json")
    let compared = try lathe("eval", "digits-mlp", "--reference", "digits-mlp", "--json")
    XCTAssertEqual(compared.status, 0, compared.stderr)
    XCTAssertEqual(compared.json["accuracy"] as? Double, plain.json["accuracy"] as? Double)
    XCTAssertEqual(compared.json["correct"] as? Int, plain.json["correct"] as? Int)
    let comparison = try XCTUnwrap((compared.json["comparisons"] as? [[String: Any]])?.first)
    XCTAssertEqual(comparison["positions"] as? Int, 360)
    XCTAssertEqual(comparison["agreement"] as? Double, 1)
    XCTAssertEqual(comparison["mean_kl"] as? Double, 0)
    XCTAssertEqual(comparison["max_abs_error"] as? Double, 0)
    XCTAssertEqual(comparison["sqnr_db"] as? String, "inf")
    XCTAssertNil(plain.json["comparisons"], "no reference, no comparison")
  }

  func testEvalAgainstAnotherClassifierPrintsTheTable() throws {
    let mlp = try lathe("eval", "digits-mlp", "--json")
    let cnn = try lathe("eval", "digits-cnn", "--json")
    let compared = try lathe("eval", "digits-mlp", "--reference", "digits-cnn", "--json")
    XCTAssertEqual(compared.status, 0, compared.stderr)
    let comparison = try XCTUnwrap((compared.json["comparisons"] as? [[String: Any]])?.first)
    let agreement = try XCTUnwrap(comparison["agreement"] as? Double)
    // Where exactly one of the two is right they disagree: at least |accuracy difference|.
    let gap = abs(try XCTUnwrap(mlp.json["accuracy"] as? Double) - (try XCTUnwrap(cnn.json["accuracy"] as? Double)))
    XCTAssertLessThanOrEqual(agreement, 1 - gap + 1e-9)
    XCTAssertGreaterThan(agreement, 0.5, "two good digit classifiers mostly agree")
    XCTAssertGreaterThan(try XCTUnwrap(comparison["mean_kl"] as? Double), 0)
    XCTAssertGreaterThanOrEqual(
      try XCTUnwrap(comparison["p99_kl"] as? Double), try XCTUnwrap(comparison["mean_kl"] as? Double) * 0.5)

    let text = try lathe("eval", "digits-mlp", "--reference", "digits-cnn")
    XCTAssertEqual(text.status, 0, text.stderr)
    XCTAssertTrue(text.stdout.hasPrefix("digits-mlp on digits: top-1 accuracy "), text.stdout)
    for column in ["agreement", "mean KL", "p99 KL", "cosine", "max |error|", "SQNR dB"] {
      XCTAssertTrue(text.stdout.contains(column), column)
    }
  }

  func testCTCAgainstAMonotoneReferenceDecodesTheSame() throws {
    let relu = try rowsModel("relu")
    // sigmoid keeps every row's argmax (digits' pixels are in [0, 1]): same decoding, other values.
    let sigmoid = try rowsModel("sigmoid")
    let result = try lathe("eval", relu, "--ctc", "--reference", sigmoid, "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertNil(result.json["accuracy"], "sequence scores get no top-1 accuracy")
    let ctc = try XCTUnwrap(result.json["ctc"] as? [String: Any])
    let against = try XCTUnwrap(ctc["against_reference"] as? [String: Any])
    XCTAssertEqual(against["exact_match_rate"] as? Double, 1)
    XCTAssertEqual(against["character_error_rate"] as? Double, 0)
    XCTAssertEqual(against["sequences"] as? Int, 360)
    let comparison = try XCTUnwrap((result.json["comparisons"] as? [[String: Any]])?.first)
    XCTAssertEqual(comparison["positions"] as? Int, 360 * 8)
    XCTAssertEqual(comparison["agreement"] as? Double, 1)
    XCTAssertGreaterThan(try XCTUnwrap(comparison["mean_kl"] as? Double), 0)

    // Expected sequences of one label no row ever picks: no exact match, and one label each.
    let labels = scratch.appendingPathComponent("labels.txt")
    try Data(String(repeating: "9\n", count: 360).utf8).write(to: labels)
    let scored = try lathe("eval", relu, "--ctc-labels", labels.path, "--json")
    XCTAssertEqual(scored.status, 0, scored.stderr)
    let vsLabels = try XCTUnwrap((scored.json["ctc"] as? [String: Any])?["against_labels"] as? [String: Any])
    XCTAssertEqual(vsLabels["exact_match_rate"] as? Double, 0)
    XCTAssertEqual(vsLabels["expected_labels"] as? Int, 360)
    let edits = try XCTUnwrap(vsLabels["edits"] as? Int)
    XCTAssertEqual(try XCTUnwrap(vsLabels["character_error_rate"] as? Double), Double(edits) / 360, accuracy: 1e-12)
    XCTAssertGreaterThanOrEqual(edits, 360, "each sequence needs at least one edit")
  }

  func testWhatCannotBeMeasuredSaysHowInOneLine() throws {
    let relu = try rowsModel("relu")
    let short = scratch.appendingPathComponent("short.txt")
    try Data("1\n2\n".utf8).write(to: short)
    let cases: [([String], [String])] = [
      (["eval", relu], ["not class scores", "--reference MODEL", "--ctc"]),
      (["eval", relu, "--ctc"], ["--ctc-labels FILE", "--reference MODEL"]),
      (["eval", relu, "--ctc-labels", short.path], ["2 label sequences for 360 test examples"]),
      (["eval", "digits-mlp", "--ctc", "--reference", "digits-mlp"], ["[N, T, classes]"]),
      (["eval", "digits-mlp", "--reference", relu], ["shape"]),
    ]
    for (arguments, mentions) in cases {
      let result = try lathe(arguments)
      XCTAssertEqual(result.status, 1, arguments.joined(separator: " "))
      XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
      for mention in mentions { XCTAssertTrue(result.stderr.contains(mention), "\(mention): \(result.stderr)") }
    }
  }
}
