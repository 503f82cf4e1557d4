/// The order of the Search screen's trial table: one column, up or down. `s` moves to the next
/// column, `S` turns the order round. Trials without a value in the column (a running trial
/// has no accuracy yet) go last either way, so reversing never buries the finished ones; ties
/// keep trial order.
public struct TrialSort: Equatable, Sendable {
  public enum Column: Equatable, Sendable {
    case number, state, seconds, host
    /// A metric by its name in the study: `accuracy`, `size_bytes`, `latency_b1`, or an objective's.
    case metric(String)
  }

  public var column: Column = .number
  public var descending = false

  public init(column: Column = .number, descending: Bool = false) {
    self.column = column
    self.descending = descending
  }

  /// The table's metric columns: accuracy, size and batch-1 latency always, then each
  /// objective's metric the three do not cover.
  public static func metricColumns(objectives: [String]) -> [String] {
    var names = ["accuracy", "size_bytes", "latency_b1"]
    for objective in objectives {
      // "minimize latency_b256": the metric is the last word.
      let metric = objective.split(separator: " ").last.map(String.init) ?? objective
      if !names.contains(metric) { names.append(metric) }
    }
    return names
  }

  /// The columns `s` steps through, in the table's order.
  public static func columns(objectives: [String]) -> [Column] {
    [.number, .state] + metricColumns(objectives: objectives).map(Column.metric) + [.seconds, .host]
  }

  /// The next column after this one (back to the first after the last), ascending.
  public func next(objectives: [String]) -> TrialSort {
    let all = Self.columns(objectives: objectives)
    let index = all.firstIndex(of: column).map { ($0 + 1) % all.count } ?? 0
    return TrialSort(column: all[index])
  }

  public var reversed: TrialSort { TrialSort(column: column, descending: !descending) }

  public func sorted(_ trials: [SearchTrial]) -> [SearchTrial] {
    trials.sorted { a, b in
      switch (key(a), key(b)) {
      case (nil, nil): return a.number < b.number
      case (nil, _): return false
      case (_, nil): return true
      case (let x?, let y?):
        if x == y { return a.number < b.number }
        return descending ? y < x : x < y
      }
    }
  }

  /// What the column orders by; nil for no value.
  private func key(_ trial: SearchTrial) -> Key? {
    switch column {
    case .number: return .number(Double(trial.number))
    case .state: return .number(Double(Self.stateRank(trial.state)))
    case .seconds: return trial.seconds.map(Key.number)
    case .host: return trial.host.map { Key.text($0.lowercased()) }
    case .metric(let name): return trial.metric(name).flatMap { $0.isNaN ? nil : Key.number($0) }
    }
  }

  private enum Key: Comparable {
    case number(Double)
    case text(String)
  }

  /// Running first: what is happening now, then what finished, worst last.
  static func stateRank(_ state: SearchTrial.State) -> Int {
    switch state {
    case .running: return 0
    case .complete: return 1
    case .pruned: return 2
    case .failed: return 3
    }
  }
}
