import Foundation
import LatheCompress
import XCTest

@testable import LatheTUI

/// A session whose second step "trains" on a background thread, for driving the real app in a
/// terminal (tmux): `LATHE_TUI_INTERACTIVE=1` runs it, otherwise the test is skipped.
final class TrainingFakeSession: WorkbenchSession, @unchecked Sendable {
  private let lock = NSLock()
  private var current: WorkbenchState
  private let base = FakeWorkbenchSession()
  private var worker: Thread?
  private var cancelled = false

  init() { current = base.state }

  var state: WorkbenchState {
    lock.lock()
    defer { lock.unlock() }
    return current
  }
  var techniques: [TechniqueDescriptor] { base.techniques }
  var pipeline: [StepSpec] { base.pipeline }
  var snapshots: [SnapshotSummary] { base.snapshots }

  private func update(_ change: (inout WorkbenchState) -> Void) {
    lock.lock()
    change(&current)
    current.revision += 1
    lock.unlock()
  }

  func runNextStep() {
    guard !state.isBusy else { return }
    update {
      $0.isBusy = true
      $0.steps[1].state = .running
      $0.training = TrainingCurve(
        stepName: "int8", points: [], epoch: 1, epochs: 3, batch: 0, batchesPerEpoch: 50, etaSeconds: nil)
    }
    lock.lock()
    cancelled = false
    lock.unlock()
    let thread = Thread { [self] in
      for batch in 1...150 {
        Thread.sleep(forTimeInterval: 0.04)
        lock.lock()
        let stop = cancelled
        lock.unlock()
        if stop {
          update {
            $0.isBusy = false
            $0.steps[1].state = .failed("cancelled")
            $0.log.append(LogLine(.warning, "int8 cancelled"))
          }
          return
        }
        update {
          $0.steps[1].progress = Double(batch) / 150
          $0.steps[1].message = "batch \(batch)"
          $0.training?.points.append(
            .init(step: batch, loss: 2 / Double(batch), accuracy: 0.5 + 0.45 * Double(batch) / 150))
          $0.training?.epoch = (batch - 1) / 50 + 1
          $0.training?.batch = (batch - 1) % 50 + 1
          $0.training?.etaSeconds = Double(150 - batch) * 0.04
        }
      }
      update {
        $0.isBusy = false
        $0.steps[1].state = .done
        $0.steps[1].metrics = FakeWorkbenchSession.pruned
      }
    }
    worker = thread
    thread.start()
  }

  func runRemainingSteps() { runNextStep() }
  func cancel() {
    lock.lock()
    cancelled = true
    lock.unlock()
  }
  func undo() {}
  func layerDetail(named name: String) -> LayerDetail? { base.layerDetail(named: name) }
  func open(model: String, dataset: String?, pipeline: String?) throws {}
  func replaceSteps(_ steps: [StepSpec]) throws {}
  func savePipeline(to path: String) throws {}
  func saveModel(to path: String) throws {}
  func shutdown(keepingFolder: Bool) {}
  let searchPipelines: [String] = []
  func startSearch(_ request: SearchRequest) throws {}
  func cancelSearch() {}
  func loadTrial(_ number: Int) throws {}
}

final class InteractiveTests: XCTestCase {
  func testRunInTerminal() throws {
    guard ProcessInfo.processInfo.environment["LATHE_TUI_INTERACTIVE"] == "1" else {
      throw XCTSkip("set LATHE_TUI_INTERACTIVE=1 and run in a terminal")
    }
    try Workbench.run(session: TrainingFakeSession(), theme: ProcessInfo.processInfo.environment["LATHE_THEME"])
  }
}
