import CKernels
import Foundation
import LatheTensor
import LatheWorkspace

/// Model latency on every kernel path this CPU supports (`lk_isa_force`), so one machine shows
/// what int8 and sparse buy on AVX2, plain AVX-512 and AVX-512 VNNI alike. Each path opens the
/// models afresh: a sparse layer times its kernels when it is built, on the path then current.
struct PathLatencies: Encodable {
  /// The path's name (`lk_isa_name`).
  var path: String
  /// Whether this is the path the kernels take unforced (`lk_isa_current`, which LK_ISA sets).
  var isDefault: Bool
  var models: [BenchResult.ModelLatency]

  /// Every supported path, portable first, the default one included; the kernels are back on
  /// the default path afterwards.
  static func measure(files: [URL], seconds: Double) throws -> [PathLatencies] {
    let defaultPath = lk_isa_current()
    defer { _ = lk_isa_force(-1) }
    return try (0..<Int32(LK_ISA_COUNT)).filter { lk_isa_supported($0) != 0 }.map { isa in
      _ = lk_isa_force(isa)
      let models = try files.map { file in
        let model = try ModelOpener.open(file)
        return BenchResult.ModelLatency(
          model: file.lastPathComponent,
          batch1: LatencyMeasurement.measure(model, batchSize: 1, minimumRuns: 50, minimumSeconds: seconds),
          batch256: LatencyMeasurement.measure(model, batchSize: 256, minimumRuns: 10, minimumSeconds: seconds))
      }
      return PathLatencies(path: String(cString: lk_isa_name(isa)), isDefault: isa == defaultPath, models: models)
    }
  }

  /// The table `lathe bench` prints: p50 per model and batch on each path, and for a compressed
  /// model (a file named after another one plus a suffix: lenet-5-int8 beside lenet-5) how many
  /// times faster than that one it runs on the same path.
  static func table(_ paths: [PathLatencies]) -> [String] {
    var rows: [[String]] = []
    // Each model, then the ones named after it (lenet-5, lenet-5-int8).
    let names = (paths.first.map { $0.models.map(\.model) } ?? []).sorted { stem($0) < stem($1) }
    for name in names {
      let base = names.filter { stem(name).hasPrefix(stem($0) + "-") }.max { $0.count < $1.count }
      for path in paths {
        guard let row = path.models.first(where: { $0.model == name }) else { continue }
        var cells = [
          stem(name), path.path + (path.isDefault ? " *" : ""), String(format: "%.1f", row.batch1.p50Microseconds),
          String(format: "%.3f", row.batch256.p50Microseconds / 1000), "", "", "",
        ]
        if let base, let reference = path.models.first(where: { $0.model == base }) {
          cells[4] = String(format: "%.2fx", reference.batch1.p50Microseconds / row.batch1.p50Microseconds)
          cells[5] = String(format: "%.2fx", reference.batch256.p50Microseconds / row.batch256.p50Microseconds)
          cells[6] = stem(base)
        }
        rows.append(cells)
      }
    }
    let table = TextTable(
      header: ["model", "path", "b1 p50 µs", "b256 p50 ms", "b1 speed-up", "b256 speed-up", "over"], rows: rows,
      rightAligned: [2, 3, 4, 5])
    return table.lines() + ["* the default path (lk_isa_current; LK_ISA=name sets it); speed-up: over the model named"]
  }

  private static func stem(_ file: String) -> String { (file as NSString).deletingPathExtension }
}
