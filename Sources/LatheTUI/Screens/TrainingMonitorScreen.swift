import Foundation

/// The step that trains now: loss and accuracy curves, progress with ETA; steps are started
/// and cancelled from here as from the workbench, so the curves of the next one can be watched.
public final class TrainingMonitorScreen: Screen {
  public init() {}

  public var title: String { "training" }
  public var bindings: [KeyBinding] {
    func command(_ run: @escaping (WorkbenchSession) -> Void) -> (Key, WorkbenchApp) -> ScreenAction {
      { _, app in
        run(app.session)
        return .handled
      }
    }
    return [
      KeyBinding([Key("n")], hint: ("n", "next"), action: command { $0.runNextStep() }),
      KeyBinding([Key("a")], hint: ("a", "all"), action: command { $0.runRemainingSteps() }),
      KeyBinding([Key("c")], hint: ("c", "cancel step"), action: command { $0.cancel() }),
      KeyBinding([.escape], hint: ("esc", "back")) { _, _ in .close },
    ]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    guard let curve = app.state.training else {
      let inner = Panel.draw(canvas, title: "Training", focused: true, context: context)
      inner.text(1, 1, "Nothing is training. Run a step with n, or a to run all.", context.style(.inactive))
      return
    }
    let box = LayoutBox.column(
      [
        .panel("progress", .fixed(4)),
        .row([.panel("loss", .weight(1)), .panel("accuracy", .weight(1))], .weight(1)),
      ], .weight(1))
    let rects = Layout.arrange(box, in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    let progress = Panel.draw(
      canvas.sub(rects["progress"]!), title: "Training \(curve.stepName)", focused: true, context: context)
    var status = "epoch \(curve.epoch)/\(curve.epochs)  batch \(curve.batch)/\(curve.batchesPerEpoch)"
    if let eta = curve.etaSeconds { status += "  ETA \(Format.duration(eta))" }
    if let last = curve.points.last {
      status += "  loss \(Format.axis(last.loss))"
      if let accuracy = curve.points.last(where: { $0.accuracy != nil })?.accuracy {
        status += "  acc \(Format.percent(accuracy))"
      }
    }
    progress.text(1, 0, status, context.text, ellipsis: context.glyphs.ellipsis)
    Bar.progress(progress, x: 1, y: 1, width: progress.width - 2, fraction: curve.progress, context: context)
    let loss = Panel.draw(canvas.sub(rects["loss"]!), title: "Loss", focused: false, context: context)
    LineChart(series: [.init(points: curve.points.map { (Double($0.step), $0.loss) }, color: .loss)])
      .draw(loss, context: context)
    let accuracy = Panel.draw(canvas.sub(rects["accuracy"]!), title: "Accuracy", focused: false, context: context)
    let accuracyPoints = curve.points.compactMap { point in point.accuracy.map { (Double(point.step), $0) } }
    LineChart(series: [.init(points: accuracyPoints, color: .accuracy)], yLabel: { Format.percent($0) })
      .draw(accuracy, context: context)
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    bindings.dispatch(key, app: app) ?? .unhandled
  }
}
