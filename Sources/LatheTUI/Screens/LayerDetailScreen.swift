import Foundation
import LatheIO

/// Enter on a layer: its weight histogram before the step that last changed it and now, where
/// the zeros are (density map), per-channel ranges and, for quantized weights, the error.
/// `j`/`k` move to the next or previous layer that has weights.
public final class LayerDetailScreen: Screen {
  private(set) var detail: LayerDetail
  private(set) var layer: LayerRow
  /// Histogram heights by log(1 + count) (`s`): after pruning, the zeros' spike is the only bar
  /// a linear scale shows.
  private(set) var logScale = false

  public init(detail: LayerDetail, layer: LayerRow) {
    self.detail = detail
    self.layer = layer
  }

  public var title: String { "layer \(detail.name)" }
  public var bindings: [KeyBinding] {
    [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "layer"), help: ("j / k", "next / previous layer")) {
        key, app in
        self.move(key.verticalStep ?? 0, app: app)
        return .handled
      },
      KeyBinding([Key("s")], hint: ("s", logScale ? "linear scale" : "log scale"), help: ("s", "histogram scale")) {
        _, _ in
        self.logScale.toggle()
        return .handled
      },
      KeyBinding([.escape, Key("h"), .left], hint: ("esc", "back")) { _, _ in .close },
    ]
  }

  /// Opens the next layer with weights in `step`'s direction; stays at the last one.
  private func move(_ step: Int, app: WorkbenchApp) {
    let layers = app.state.model?.layers ?? []
    guard step != 0, var index = layers.firstIndex(where: { $0.name == detail.name }) else { return }
    let direction = step > 0 ? 1 : -1
    var remaining = abs(step)
    while remaining > 0 {
      index += direction
      guard layers.indices.contains(index) else { return }
      guard layers[index].parameters > 0, let next = app.session.layerDetail(named: layers[index].name) else {
        continue
      }
      (detail, layer) = (next, layers[index])
      remaining -= 1
    }
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let box = LayoutBox.row(
      [
        .column([.panel("before", .weight(1)), .panel("after", .weight(1))], .weight(3)),
        .column([.panel("map", .weight(3)), .panel("channels", .weight(3)), .panel("error", .fixed(6))], .weight(2)),
      ], .weight(1))
    let rects = Layout.arrange(box, in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    let maxCount = max(detail.histogramBefore.max() ?? 1, detail.histogramAfter.max() ?? 1)
    let scale = logScale ? "log scale" : nil
    let beforeTitle = detail.changedBy.map { "Weights before \($0)" } ?? "Weights as opened (no step changed them)"
    let before = Panel.draw(
      canvas.sub(rects["before"]!), title: beforeTitle, focused: false, context: context, note: scale)
    Histogram(
      bins: detail.histogramBefore, color: .histogramBefore, maxCount: maxCount, range: detail.range,
      logScale: logScale
    ).draw(before, context: context)
    let after = Panel.draw(
      canvas.sub(rects["after"]!), title: "Weights now", focused: true, context: context, note: scale)
    Histogram(
      bins: detail.histogramAfter, color: .histogramAfter, maxCount: maxCount, range: detail.range, logScale: logScale
    ).draw(after, context: context)
    let density = detail.sparsityMap.isEmpty ? 0 : detail.sparsityMap.reduce(0, +) / Double(detail.sparsityMap.count)
    let map = Panel.draw(
      canvas.sub(rects["map"]!), title: "Nonzeros (rows = out channels)", focused: false, context: context,
      note: "density " + Format.percent(density, digits: 0))
    DensityMap(values: detail.sparsityMap, rows: detail.sparsityRows, columns: detail.sparsityColumns)
      .draw(map, context: context)
    let channels = Panel.draw(
      canvas.sub(rects["channels"]!), title: "Per-channel range", focused: false, context: context,
      note: Wording.count(detail.channelMin.count, "channel"))
    RangePlot(minimums: detail.channelMin, maximums: detail.channelMax).draw(channels, context: context)
    let error = Panel.draw(canvas.sub(rects["error"]!), title: "Layer", focused: false, context: context)
    error.text(
      1, 0, "\(layer.op) \(Format.shape(layer.shape))  \(Format.count(layer.parameters)) params  \(layer.kernel)",
      context.text, ellipsis: context.glyphs.ellipsis)
    error.text(
      1, 1,
      "sparsity \(Format.percent(layer.sparsity))  bits \(Format.axis(layer.bits))  \(ByteCount.format(layer.bytes))",
      context.text, ellipsis: context.glyphs.ellipsis)
    if let quantization = detail.quantizationError {
      error.text(
        1, 2,
        "quant error: mse \(Format.axis(quantization.meanSquared))  max \(Format.axis(quantization.maxAbsolute))"
          + "  SQNR \(String(format: "%.1f", quantization.sqnrDecibels)) dB",
        context.style(.highlight), ellipsis: context.glyphs.ellipsis)
    } else {
      error.text(1, 2, "not quantized", context.style(.inactive))
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    bindings.dispatch(key, app: app) ?? .unhandled
  }
}
