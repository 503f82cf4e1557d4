import Foundation
import LatheSearch
import LatheStudyStore
import XCTest

/// A study Optuna 5.1 wrote (Fixtures/optuna-5.1-branin.db: eight TPE trials of Branin over x0,
/// x1 in [0, 1], `set_metric_names(["value"])`), read and carried on without Python.
final class OptunaFixtureTests: StudyStoreTestCase {
  func open(_ path: String) throws -> OptunaStudyStore {
    try OptunaStudyStore(
      connection: try SQLiteStudyConnection(path: path), studyName: "branin", space: space,
      objectiveMetrics: ["value"])
  }

  func testOptunasTrialsReadAsTheyWereWritten() throws {
    let path = try fixture("optuna-5.1-branin.db")
    let study = runner(try open(path), trials: 8).study(try open(path).read())
    XCTAssertEqual(study.trials.map(\.number), Array(0..<8))
    XCTAssertEqual(study.complete.count, 8)
    // Optuna's values are Branin at its parameters: the parameters and values read right.
    for trial in study.trials {
      let x0 = try XCTUnwrap(trial.params["x0"]?.number)
      let x1 = try XCTUnwrap(trial.params["x1"]?.number)
      XCTAssertEqual(trial.metrics["value"]!, TestFunction.branin.evaluate([x0, x1])[0], accuracy: 1e-9)
      // Their points in [0, 1]^2 are worked out from the values.
      XCTAssertEqual(trial.unit[0], x0, accuracy: 1e-12)
    }
    XCTAssertEqual(study.best?.number, 6)  // 19.643, Optuna's own best
  }

  func testLatheCarriesTheStudyOnWithoutTouchingOptunasTrials() throws {
    let path = try fixture("optuna-5.1-branin.db")
    let before = runner(try open(path), trials: 8).study(try open(path).read())
    let after = try runner(try open(path), trials: 14).run()
    XCTAssertEqual(after.trials.count, 14)
    XCTAssertEqual(Array(after.trials.prefix(8).map(\.metrics)), before.trials.map(\.metrics))
    XCTAssertEqual(Array(after.trials.prefix(8).map(\.params)), before.trials.map(\.params))
    XCTAssertEqual(after.complete.count, 14)
  }

  func testASearchOfOtherObjectivesOrSpaceIsRefused() throws {
    let path = try fixture("optuna-5.1-branin.db")
    var maximize = settings()
    maximize.objectives = [Objective(.maximize, "value")]
    XCTAssertThrowsError(try runner(try open(path), trials: 10, settings: maximize).run()) {
      XCTAssertTrue("\($0)".contains("objectives are [minimize value]"), "\($0)")
    }
    let narrow = SearchSpace([
      SearchDimension(name: "x0", kind: .float(low: 0, high: 0.1, log: false)),
      SearchDimension(name: "x1", kind: .float(low: 0, high: 1, log: false)),
    ])
    XCTAssertThrowsError(try runner(try open(path), trials: 10, space: narrow).run()) {
      XCTAssertTrue("\($0)".contains("outside this search's space"), "\($0)")
    }
  }
}
