import Foundation
import LatheIO

/// Two snapshots side by side, layer by layer: what a step changed.
public final class CompareScreen: Screen {
  private var snapshots: [SnapshotSummary]
  /// Indices of the left and right snapshot.
  private(set) var left: Int
  private(set) var right: Int
  private var selected = 0

  /// Starts with the last snapshot on the right and the one before it on the left.
  public init(app: WorkbenchApp) {
    snapshots = app.session.snapshots
    right = max(0, snapshots.count - 1)
    left = max(0, snapshots.count - 2)
  }

  public var title: String { "compare" }
  public var bindings: [KeyBinding] { Self.keyBindings }

  static var keyBindings: [KeyBinding] {
    [
      KeyBinding(
        [Key("h"), Key("l"), .left, .right], hint: ("h/l", "right snapshot"), help: ("h l", "change right snapshot")),
      // Not H/L: L is the log view everywhere.
      KeyBinding([Key("<"), Key(">")], hint: ("</>", "left snapshot"), help: ("< >", "change left snapshot")),
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "layer")),
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    guard !snapshots.isEmpty else {
      let inner = Panel.draw(canvas, title: "Compare", focused: true, context: context)
      inner.text(1, 1, "No snapshots yet: run a step first.", context.style(.inactive))
      return
    }
    let a = snapshots[left]
    let b = snapshots[right]
    let inner = Panel.draw(canvas, title: "Compare  \(a.name)  vs  \(b.name)", focused: true, context: context)
    var y = 0
    for (snapshot, side) in [(a, "left"), (b, "right")] {
      var line = "\(side): \(snapshot.name)"
      if let metrics = snapshot.metrics {
        line += "  acc \(Format.percent(metrics.accuracy))  size \(ByteCount.format(metrics.sizeBytes))"
        line +=
          "  x\(Format.axis(metrics.compressionRatio))  b1 \(Format.micros(metrics.latencyUs.batch1P50, ascii: !context.glyphs.isUnicode))"
      }
      inner.text(1, y, line, context.style(side == "left" ? .histogramBefore : .histogramAfter, .bold))
      y += 1
    }
    let columns = [
      TableColumn("layer", .weight(2)), TableColumn("sparsity", .fixed(12)), TableColumn("bits", .fixed(4), .right),
      TableColumn("bytes", .fixed(8), .right), TableColumn("│", .fixed(1)), TableColumn("sparsity", .fixed(12)),
      TableColumn("bits", .fixed(4), .right), TableColumn("bytes", .fixed(8), .right),
      TableColumn("Δ bytes", .fixed(9), .right),
    ]
    let rightByName = Dictionary(b.layers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let separator = String(context.glyphs.vertical)
    let rows: [[TableCell]] = a.layers.map { layer in
      var cells: [TableCell] = [
        .text(layer.name), .bar(layer.sparsity, Format.fit(Format.percent(layer.sparsity, digits: 0), 4, right: true)),
        .text(Format.axis(layer.bits)), .text(ByteCount.format(layer.bytes)), .text(separator, .border),
      ]
      if let other = rightByName[layer.name] {
        let delta = other.bytes - layer.bytes
        cells += [
          .bar(other.sparsity, Format.fit(Format.percent(other.sparsity, digits: 0), 4, right: true)),
          .text(Format.axis(other.bits), other.bits != layer.bits ? .highlight : nil),
          .text(ByteCount.format(other.bytes)),
          .text(
            delta == 0 ? "=" : (delta < 0 ? "-" : "+") + ByteCount.format(abs(delta)),
            delta < 0 ? .ok : delta > 0 ? .warning : .inactive),
        ]
      } else {
        cells.append(.text("(not in \(b.name))", .inactive))
      }
      return cells
    }
    selected = min(selected, max(0, rows.count - 1))
    Table(columns: columns, rows: rows, selected: selected)
      .draw(
        inner.sub(Rect(x: 0, y: y + 1, width: inner.width, height: inner.height - y - 1)), context: context,
        focused: true)
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    let last = max(0, snapshots.count - 1)
    switch key {
    case .character("l"), .right: right = min(last, right + 1)
    case .character("h"), .left: right = max(0, right - 1)
    case .character(">"): left = min(last, left + 1)
    case .character("<"): left = max(0, left - 1)
    case .escape: return .close
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selected = max(0, selected + step)
    }
    return .handled
  }
}
