import Foundation
import LatheIO

/// Enter on a layer: its weight histogram before and after the current step, where the zeros
/// are (density map), per-channel ranges and the quantization error.
public final class LayerDetailScreen: Screen {
  let detail: LayerDetail
  let layer: LayerRow

  public init(detail: LayerDetail, layer: LayerRow) {
    self.detail = detail
    self.layer = layer
  }

  public var title: String { "layer \(detail.name)" }
  public var bindings: [KeyBinding] { [KeyBinding([.escape, Key("h"), .left], hint: ("esc", "back"))] }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let box = LayoutBox.row(
      [
        .column([.panel("before", .weight(1)), .panel("after", .weight(1))], .weight(3)),
        .column([.panel("map", .weight(3)), .panel("channels", .weight(3)), .panel("error", .fixed(6))], .weight(2)),
      ], .weight(1))
    let rects = Layout.arrange(box, in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    let maxCount = max(detail.histogramBefore.max() ?? 1, detail.histogramAfter.max() ?? 1)
    let before = Panel.draw(
      canvas.sub(rects["before"]!), title: "Weights before step", focused: false, context: context)
    Histogram(bins: detail.histogramBefore, color: .histogramBefore, maxCount: maxCount, range: detail.range)
      .draw(before, context: context)
    let after = Panel.draw(canvas.sub(rects["after"]!), title: "Weights now", focused: true, context: context)
    Histogram(bins: detail.histogramAfter, color: .histogramAfter, maxCount: maxCount, range: detail.range)
      .draw(after, context: context)
    let density = detail.sparsityMap.isEmpty ? 0 : detail.sparsityMap.reduce(0, +) / Double(detail.sparsityMap.count)
    let map = Panel.draw(
      canvas.sub(rects["map"]!), title: "Nonzeros (rows = out channels)", focused: false, context: context,
      note: "density " + Format.percent(density, digits: 0))
    DensityMap(values: detail.sparsityMap, rows: detail.sparsityRows, columns: detail.sparsityColumns)
      .draw(map, context: context)
    let channels = Panel.draw(
      canvas.sub(rects["channels"]!), title: "Per-channel range", focused: false, context: context,
      note: "\(detail.channelMin.count) channels")
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
    key == .escape || key == .character("h") || key == .left ? .close : .unhandled
  }
}
