import Foundation
import LatheONNX
import LatheTensor
import LatheWorkspace

/// Where a model's latency goes: each layer's forward timed alone on the inputs it really
/// receives, at each batch size asked for (1 and 256 by default).
///
/// Each layer is timed the moment the forward pass reaches it, on the inputs it was just
/// given, so only one layer's inputs are alive at a time: a model whose activations at batch
/// 256 do not all fit in memory at once can still be profiled (`LayerTimes`, which the
/// workbench's time column uses too).
enum LayerProfile {
  struct Row: Encodable {
    var name: String
    var op: String
    var kernel: String
    /// Median microseconds at each of `batches`, in that order.
    var microseconds: [Double]
  }

  struct Profile: Encodable {
    var batches: [Int]
    var rows: [Row]
  }

  static func measure(path: String, batches: [Int], quick: Bool) throws -> Profile {
    let model = try ModelOpener.open(path)
    var perBatch: [[String: Double]] = []
    for batch in batches {
      var g = SeededGenerator(seed: 1)
      let feeds = model.exampleFeeds(batchSize: batch, generator: &g)
      // About the same time per batch size: many runs of a small batch, a few of a large one.
      let runs = max(quick ? 3 : 10, (quick ? 300 : 2000) / batch)
      perBatch.append(LayerTimes.measure(model, feeds: feeds, minimumRuns: runs, maximumRuns: runs))
    }
    let rows = model.nodes.map { node in
      Row(
        name: node.name, op: node.layer.op, kernel: node.layer.kernelName,
        microseconds: perBatch.map { $0[node.name] ?? 0 })
    }
    return Profile(batches: batches, rows: rows)
  }

  static func table(_ profile: Profile) -> String {
    let header = profile.batches.map { "b\($0) p50 µs".leftPadded(to: 13) }.joined()
    var lines = ["layer                    op                 kernel                    " + header]
    for r in profile.rows {
      lines.append(
        r.name.padded(to: 24) + " " + r.op.padded(to: 18) + " " + r.kernel.padded(to: 24)
          + r.microseconds.map { String(format: "%13.2f", $0) }.joined())
    }
    let totals = profile.batches.indices.map { b in profile.rows.reduce(0) { $0 + $1.microseconds[b] } }
    lines.append("sum of layers".padded(to: 69) + totals.map { String(format: "%13.2f", $0) }.joined())
    // The share of each op, so "where does the time go" has a one-screen answer.
    lines.append("")
    lines.append("by op".padded(to: 69) + profile.batches.map { "b\($0) share".leftPadded(to: 13) }.joined())
    let ops = Dictionary(grouping: profile.rows, by: \.op)
    let byTime = ops.keys.sorted { a, b in
      ops[a]!.reduce(0) { $0 + $1.microseconds[0] } > ops[b]!.reduce(0) { $0 + $1.microseconds[0] }
    }
    for op in byTime {
      let rows = ops[op]!
      let shares = profile.batches.indices.map { b in
        100 * rows.reduce(0) { $0 + $1.microseconds[b] } / max(totals[b], 1e-9)
      }
      lines.append(
        "\(op) (\(rows.count))".padded(to: 69) + shares.map { String(format: "%12.1f%%", $0) }.joined())
    }
    return lines.joined(separator: "\n")
  }
}

extension String {
  fileprivate func padded(to width: Int) -> String { padding(toLength: max(width, count), withPad: " ", startingAt: 0) }
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
