import Dispatch
import LatheTUI

/// Frame-build timing for `lathe bench` and the README figure (target: under 5 ms at 200x60).
public enum TUIBenchmark {
  /// Median milliseconds to build one full workbench frame (every panel, charts included) into
  /// a cell grid, without a terminal. `screen` picks "home", "training" or "search".
  public static func frameBuildMilliseconds(
    width: Int = 200, height: Int = 60, frames: Int = 200, layers: Int = 40, steps: Int = 8,
    screen: String = "home"
  ) -> Double {
    let app = WorkbenchApp(session: SyntheticSession(layers: layers, steps: steps))
    if screen == "training" { app.handle(.character("m")) }
    if screen == "search" { app.handle(.character("s")) }
    var times: [Double] = []
    times.reserveCapacity(frames)
    for frame in 0..<max(1, frames) {
      let start = DispatchTime.now().uptimeNanoseconds
      let grid = app.render(width: width, height: height, tick: frame)
      let end = DispatchTime.now().uptimeNanoseconds
      precondition(grid.width == width)
      times.append(Double(end - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
  }
}
