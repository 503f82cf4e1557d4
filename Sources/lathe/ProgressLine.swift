import Foundation
import LatheTensor

/// Training progress on stderr: a redrawn bar on a terminal, one plain line per epoch otherwise.
final class ProgressLine {
  private let enabled: Bool
  private let interactive = stderrIsTerminal
  private var lastDraw = Date.distantPast

  init(enabled: Bool) { self.enabled = enabled }

  func show(_ p: TrainingProgress) {
    guard enabled else { return }
    let endOfEpoch = p.batch == p.batches
    if interactive {
      // Redraw at most 20 times a second, and always at the end of an epoch.
      guard endOfEpoch || Date().timeIntervalSince(lastDraw) > 0.05 else { return }
      lastDraw = Date()
      let done = Double((p.epoch - 1) * p.batches + p.batch)
      let total = Double(p.epochs * p.batches)
      let eta = p.elapsedSeconds / done * (total - done)
      let width = 24
      let filled = Int(Double(width) * Double(p.batch) / Double(p.batches))
      let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
      let line = String(
        format: "\repoch %d/%d %@ batch %d/%d  loss %.4f  acc %.2f%%  ETA %@  ", p.epoch, p.epochs, bar, p.batch,
        p.batches, p.loss, p.accuracy * 100, formatDuration(eta))
      FileHandle.standardError.write(Data(line.utf8))
      if endOfEpoch { FileHandle.standardError.write(Data("\n".utf8)) }
    } else if endOfEpoch {
      printError(
        String(
          format: "epoch %d/%d  loss %.4f  acc %.2f%%  lr %.5f  %.1f s", p.epoch, p.epochs, p.loss, p.accuracy * 100,
          p.learningRate, p.elapsedSeconds))
    }
  }

}

func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite else { return "--" }
  let s = Int(seconds.rounded())
  return s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s)s"
}
