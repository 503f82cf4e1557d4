import Foundation
import LatheTensor

/// What the layer detail screen shows about one layer's weights, computed from the models of
/// the current snapshot and the one before the step that last changed the layer.
enum LayerInspector {
  static let bins = 48

  /// The detail of `name` in the last of `snapshots` (oldest first, each named by the step that
  /// made it), against the snapshot before the last step that changed its weights: a quantize
  /// step that skips a pruned layer leaves "before" at the pruning.
  static func detail(layer name: String, snapshots: [(name: String, model: Model)]) -> LayerDetail? {
    guard let last = snapshots.last else { return nil }
    let weights = snapshots.map { snapshot in
      snapshot.model.nodes.first { $0.name == name }.flatMap { $0.layer.effectiveWeight?.scalars }
    }
    // The last step whose weights differ from its input's; none: the model as opened.
    let changed = (1..<max(1, snapshots.count)).last { weights[$0] != weights[$0 - 1] }
    let before = changed.map { snapshots[$0 - 1].model } ?? (snapshots.count > 1 ? snapshots[0].model : nil)
    var detail = Self.detail(layer: name, after: last.model, before: before)
    detail?.changedBy = changed.map { snapshots[$0].name }
    return detail
  }

  static func detail(layer name: String, after: Model, before: Model?) -> LayerDetail? {
    // Each layer type says what weight it computes with (Layer.effectiveWeight), whatever its storage.
    guard let node = after.nodes.first(where: { $0.name == name }), let w = node.layer.effectiveWeight else {
      return nil
    }
    let previous = before?.nodes.first { $0.name == name }.flatMap { $0.layer.effectiveWeight }
    let values = w.scalars
    let old = previous?.scalars ?? values
    let low = Double(min(values.min() ?? 0, old.min() ?? 0))
    let high = Double(max(values.max() ?? 0, old.max() ?? 0))
    let rows = w.shape[0]
    let columns = values.count / max(rows, 1)
    var channelMin: [Double] = []
    var channelMax: [Double] = []
    for r in 0..<rows {
      let row = values[(r * columns)..<((r + 1) * columns)]
      channelMin.append(Double(row.min() ?? 0))
      channelMax.append(Double(row.max() ?? 0))
    }
    let (map, mapRows, mapColumns) = densityMap(values, rows: rows, columns: columns)
    var error: QuantizationError?
    if storesQuantizedValues(node.layer), let previous, previous.shape.reduce(1, *) == values.count, old != values {
      var noise: Double = 0
      var signal: Double = 0
      var worst: Double = 0
      for (a, b) in zip(values, old) {
        let d = Double(a - b)
        noise += d * d
        signal += Double(b) * Double(b)
        worst = max(worst, abs(d))
      }
      error = QuantizationError(
        meanSquared: noise / Double(values.count), maxAbsolute: worst,
        sqnrDecibels: noise > 0 ? 10 * log10(signal / noise) : .infinity)
    }
    return LayerDetail(
      name: name, histogramBefore: histogram(old, low: low, high: high),
      histogramAfter: histogram(values, low: low, high: high),
      range: low...max(high, low + 1e-9), sparsityMap: map, sparsityRows: mapRows, sparsityColumns: mapColumns,
      channelMin: channelMin, channelMax: channelMax, quantizationError: error)
  }

  /// Whether the layer keeps its weights in fewer bits than fp32 (int8, intN, shared values):
  /// only then is the change a quantization error. A pruned fp32 layer ("f32 sparse", 2:4 f32)
  /// changed too, but its error is the zeros, which the histograms and the map show.
  static func storesQuantizedValues(_ layer: Layer) -> Bool {
    let storage = layer.statistics.storage
    return storage != "-" && !storage.contains("f32")
  }

  static func histogram(_ values: [Float], low: Double, high: Double) -> [Int] {
    var counts = [Int](repeating: 0, count: bins)
    let span = max(high - low, 1e-12)
    for v in values {
      counts[min(bins - 1, max(0, Int((Double(v) - low) / span * Double(bins))))] += 1
    }
    return counts
  }

  /// Fraction of non-zeros in each cell of a grid of at most 16 x 48 cells over the matrix.
  static func densityMap(_ values: [Float], rows: Int, columns: Int) -> ([Double], Int, Int) {
    let gridRows = min(rows, 16)
    let gridColumns = min(columns, 48)
    var nonzero = [Double](repeating: 0, count: gridRows * gridColumns)
    var total = [Double](repeating: 0, count: gridRows * gridColumns)
    for r in 0..<rows {
      let gr = r * gridRows / rows
      for c in 0..<columns {
        let cell = gr * gridColumns + c * gridColumns / columns
        total[cell] += 1
        if values[r * columns + c] != 0 { nonzero[cell] += 1 }
      }
    }
    return (zip(nonzero, total).map { $1 > 0 ? $0 / $1 : 0 }, gridRows, gridColumns)
  }
}
