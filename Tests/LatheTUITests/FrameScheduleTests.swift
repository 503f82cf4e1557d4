import Foundation
import XCTest

@testable import LatheTUI

/// When the run loop draws, and the session's side of it: the header's spinner must go as soon
/// as the work ends, not at the next key (it stayed after `a` two times in five).
final class FrameScheduleTests: XCTestCase {
  let size = (width: 100, height: 30)

  func state(revision: Int, busy: Bool) -> WorkbenchState { WorkbenchState(revision: revision, isBusy: busy) }

  func testAFrameIsDueWhenWorkEndsEvenWithoutANewRevision() {
    var schedule = FrameSchedule()
    XCTAssertTrue(schedule.isDue(state(revision: 5, busy: true), size: size, now: 0), "the first frame")
    schedule.drew(state(revision: 5, busy: true), size: size, now: 0)
    XCTAssertFalse(schedule.isDue(state(revision: 5, busy: true), size: size, now: 0.05))
    XCTAssertTrue(schedule.isDue(state(revision: 5, busy: true), size: size, now: 0.11), "the spinner turns")
    XCTAssertTrue(schedule.isDue(state(revision: 5, busy: false), size: size, now: 0.01), "the spinner goes")
    schedule.drew(state(revision: 5, busy: false), size: size, now: 0.01)
    XCTAssertFalse(schedule.isDue(state(revision: 5, busy: false), size: size, now: 10), "idle: no frames")
  }

  func testKeysResizesAndRevisionsDrawAFrame() {
    var schedule = FrameSchedule()
    schedule.drew(state(revision: 1, busy: false), size: size, now: 0)
    XCTAssertTrue(schedule.isDue(state(revision: 2, busy: false), size: size, now: 0))
    XCTAssertTrue(schedule.isDue(state(revision: 1, busy: false), size: (width: 120, height: 30), now: 0))
    schedule.keyPressed = true
    XCTAssertTrue(schedule.isDue(state(revision: 1, busy: false), size: size, now: 0))
  }

  /// The session's promise behind the schedule ("equal revisions mean equal states"): the end
  /// of `a` is a revision of its own. Watched from another thread while two steps run, no
  /// revision is seen both working and idle, and the idle end is newer than every busy one.
  func testTheEngineEndsItsWorkWithANewRevision() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-frames-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let pipeline = folder.appendingPathComponent("two.yaml")
    try """
    name: two
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: 0.5
      - name: int8
        technique: quantize
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: pipeline.path, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    var deadline = Date().addingTimeInterval(60)
    while session.state.isBusy && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    for _ in 0..<3 {
      var busyRevisions: Set<Int> = []
      var idleRevisions: Set<Int> = []
      session.runRemainingSteps()
      deadline = Date().addingTimeInterval(60)
      var seen = session.state
      while (seen.isBusy || seen.steps.contains { $0.state != .done }) && Date() < deadline {
        if seen.isBusy { busyRevisions.insert(seen.revision) } else { idleRevisions.insert(seen.revision) }
        seen = session.state
      }
      XCTAssertFalse(seen.isBusy, "\(seen.log.map(\.text))")
      idleRevisions.insert(seen.revision)
      XCTAssertTrue(busyRevisions.isDisjoint(with: idleRevisions), "revisions seen both working and idle")
      XCTAssertGreaterThan(seen.revision, busyRevisions.max() ?? -1)
      session.undo()
      session.undo()
    }
  }
}
