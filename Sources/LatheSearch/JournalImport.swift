import Foundation

extension Study {
  /// The study as a clean log: its header, then per trial one `start`, its rungs' `report`s
  /// and its `finish`. What importing an old journal into a database writes: a journal from a
  /// study whose trials were taken again after a crash has several starts for one trial.
  public static func canonicalEvents(_ events: [JournalEvent]) -> [JournalEvent] {
    let header = events.last { $0.event == .study }
    let study = Study(events: events, objectives: [])
    var clean = header.map { [$0] } ?? []
    for trial in study.trials {
      var start = JournalEvent(event: .start, trial: trial.number, time: trial.started)
      start.unit = trial.unit
      start.params = trial.params
      start.host = trial.host
      start.pid = trial.pid
      start.retryOf = trial.retryOf
      clean.append(start)
      for budget in trial.rungs.keys.sorted() {
        var report = JournalEvent(event: .report, trial: trial.number, time: trial.started)
        report.budget = budget
        report.metrics = trial.rungs[budget]
        clean.append(report)
      }
      guard trial.isFinished else { continue }
      var finish = JournalEvent(event: .finish, trial: trial.number, time: trial.finished ?? trial.started)
      finish.state = trial.state
      finish.metrics = trial.metrics
      finish.error = trial.error
      finish.seconds = trial.seconds
      clean.append(finish)
    }
    return clean
  }
}
