import Foundation
import XCTest

/// Optuna and optuna-dashboard on studies Lathe writes, and Lathe on a study Optuna made: the
/// real packages (pinned, in the venv `scripts/optuna-check.sh` makes), skipped with the
/// reason when pip cannot reach them.
extension CommandLineTests {
  /// The venv's Python, made on first use; skips when it cannot be made.
  func optunaPython() throws -> String {
    let made = try shell(Self.packageRoot.appendingPathComponent("scripts/optuna-check.sh").path, ["--python"])
    if made.status == 77 { throw XCTSkip("Optuna is not installable here: \(made.stderr)") }
    XCTAssertEqual(made.status, 0, made.stderr)
    return made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func optuna(_ python: String, _ arguments: [String]) throws -> [String: Any] {
    let script = Self.packageRoot.appendingPathComponent("scripts/optuna_interop.py").path
    let result = try shell(python, [script] + arguments)
    XCTAssertEqual(result.status, 0, result.stderr)
    return result.json
  }

  func testOptunaLoadsALatheStudyWithItsTrialsParametersAndValues() throws {
    let python = try optunaPython()
    let url = "sqlite:///" + scratch.appendingPathComponent("b.study.db").path
    let search = try lathe(
      "search", "--function", "branin", "--trials", "16", "--pruner", "successive-halving", "--storage", url, "--json")
    XCTAssertEqual(search.status, 0, search.stderr)
    let read = try optuna(python, ["read", "--storage", url, "--study", "branin"])
    let trials = try XCTUnwrap(read["trials"] as? [[String: Any]])
    XCTAssertEqual(trials.count, 16)
    XCTAssertEqual(trials.map { $0["number"] as? Int }, Array(0..<16))
    let states = trials.compactMap { $0["state"] as? String }
    XCTAssertEqual(states.filter { $0 == "COMPLETE" }.count, search.json["complete"] as? Int)
    XCTAssertEqual(states.filter { $0 == "PRUNED" }.count, search.json["pruned"] as? Int)
    XCTAssertEqual(read["directions"] as? [String], ["MINIMIZE"])
    XCTAssertEqual(read["metric_names"] as? [String], ["value"])
    // Every trial reported its rungs as intermediate values, and a pruned one keeps its last.
    for trial in trials {
      let steps = trial["intermediate_values"] as? [String: Double] ?? [:]
      XCTAssertFalse(steps.isEmpty, "trial \(trial["number"]!) has no intermediate values")
      if trial["state"] as? String == "PRUNED", let last = steps.keys.compactMap(Int.init).max() {
        XCTAssertEqual((trial["values"] as? [Double])?.first, steps[String(last)])
      }
    }
    // Optuna's best trial is Lathe's, with the same parameters and value.
    let best = try XCTUnwrap(search.json["best"] as? [String: Any])
    XCTAssertEqual(read["best_trials"] as? [Int], [best["trial"] as! Int])
    let optunaBest = trials[best["trial"] as! Int]
    XCTAssertEqual(
      (optunaBest["values"] as? [Double])?.first ?? .nan, (best["metrics"] as? [String: Double])?["value"] ?? 0,
      accuracy: 1e-12)
    let params = try XCTUnwrap(optunaBest["params"] as? [String: Double])
    for (name, value) in try XCTUnwrap(best["params"] as? [String: Double]) {
      XCTAssertEqual(params[name] ?? .nan, value, accuracy: 1e-12, name)
    }
  }

  func testLatheCarriesOnAStudyOptunaMade() throws {
    let python = try optunaPython()
    let url = "sqlite:///" + scratch.appendingPathComponent("optuna.db").path
    let made = try optuna(
      python, ["create", "--storage", url, "--study", "branin", "--function", "branin", "--trials", "10"])
    let theirs = try XCTUnwrap(made["trials"] as? [[String: Any]])
    XCTAssertEqual(theirs.count, 10)
    // A search of other objectives refuses the study instead of mixing it up.
    let zdt = try lathe("search", "--function", "zdt1", "--study-name", "branin", "--storage", url, "--resume")
    XCTAssertNotEqual(zdt.status, 0)
    XCTAssertTrue(zdt.stderr.contains("the study's objectives are [minimize value]"), zdt.stderr)
    let search = try lathe(
      "search", "--function", "branin", "--trials", "20", "--storage", url, "--resume", "--json")
    XCTAssertEqual(search.status, 0, search.stderr)
    XCTAssertEqual(search.json["new_trials"] as? Int, 10)
    let read = try optuna(python, ["read", "--storage", url, "--study", "branin"])
    let trials = try XCTUnwrap(read["trials"] as? [[String: Any]])
    XCTAssertEqual(trials.count, 20)
    XCTAssertTrue(trials.allSatisfy { $0["state"] as? String == "COMPLETE" })
    // Optuna's ten are untouched; Lathe's ten carry their points.
    for (before, after) in zip(theirs, trials.prefix(10)) {
      XCTAssertEqual(before["values"] as? [Double], after["values"] as? [Double])
      XCTAssertEqual(before["params"] as? [String: Double], after["params"] as? [String: Double])
    }
    for trial in trials.suffix(10) {
      XCTAssertNotNil((trial["system_attrs"] as? [String: Any])?["lathe:unit"], "\(trial)")
    }
  }

  func testOptunaDashboardShowsALatheStudy() throws {
    let python = try optunaPython()
    _ = python
    let url = "sqlite:///" + scratch.appendingPathComponent("z.study.db").path
    let search = try lathe("search", "--function", "zdt1", "--trials", "24", "--storage", url, "--json")
    XCTAssertEqual(search.status, 0, search.stderr)
    // Kept after the test: the screenshot is how a person checks the page.
    let output = Self.packageRoot.appendingPathComponent(".build/test-output/optuna-dashboard")
    try? FileManager.default.removeItem(at: output)
    let dashboard = try shell(
      Self.packageRoot.appendingPathComponent("scripts/optuna-check.sh").path,
      ["dashboard", "--storage", url, "--study", "zdt1", "--out", output.path])
    if dashboard.status == 77 { throw XCTSkip("optuna-dashboard is not installable here: \(dashboard.stderr)") }
    XCTAssertEqual(dashboard.status, 0, dashboard.stderr)
    XCTAssertEqual(dashboard.json["api_trials"] as? Int, 24)
    if let screenshot = dashboard.json["screenshot"] as? String {
      XCTAssertGreaterThan(dashboard.json["screenshot_bytes"] as? Int ?? 0, 20_000, "a blank page is small")
      print("optuna-dashboard screenshot: \(screenshot)")
    } else {
      print("optuna-dashboard screenshot skipped: \(dashboard.json["screenshot_skipped"] ?? "?")")
    }
  }
}
