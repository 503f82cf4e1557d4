/// Every colour a theme names, by the key used in theme files (btop style: `theme[main_fg]`).
/// Views refer to these roles, never to literal colours, so one file restyles everything.
public enum ThemeColor: String, CaseIterable, Sendable {
  case mainBackground = "main_bg"
  case mainForeground = "main_fg"
  /// Panel titles.
  case title = "title"
  /// Key letters in hints, highlighted values.
  case highlight = "hi_fg"
  case selectedBackground = "selected_bg"
  case selectedForeground = "selected_fg"
  /// Secondary text: units, labels, pending steps.
  case inactive = "inactive_fg"
  /// Borders of panels that do not have focus.
  case border = "div_line"
  /// Border of the focused panel.
  case focusBorder = "focus_border"
  /// Axis labels and ticks.
  case graphText = "graph_text"
  /// The empty part of bars.
  case meterBackground = "meter_bg"
  case statusBackground = "status_bg"
  case statusForeground = "status_fg"
  case ok = "ok"
  case warning = "warning"
  case error = "error"
  case running = "running"
  /// Series colours in charts.
  case accuracy = "accuracy"
  case size = "size"
  case latency = "latency"
  case loss = "loss"
  case pareto = "pareto"
  case histogramBefore = "hist_before"
  case histogramAfter = "hist_after"
  /// Sparsity bars and the density map.
  case sparsity = "sparsity"
}
