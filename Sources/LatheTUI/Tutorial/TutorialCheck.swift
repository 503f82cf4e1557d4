import Foundation
import LatheCompress

/// One condition on the workbench that a tutorial step waits for. Checks read only what the
/// screens show (the session state and pipeline) plus the keys pressed, so what the learner
/// sees and what the tutorial checks cannot disagree.
public enum TutorialCheck: Sendable, Equatable {
  /// `done: NAME`: the pipeline step is done.
  case stepDone(String)
  /// `setting: {STEP.KEY: VALUE}`: a step's setting has this value (numbers compare as numbers).
  case setting(step: String, key: String, value: String)
  /// `accuracy_above: 0.9`: the current model's measured accuracy.
  case accuracyAbove(Double)
  /// `kernel: {LAYER: TEXT}`: the layer's storage or kernel name contains the text ("int8").
  case layerKernel(layer: String, contains: String)
  /// `sparsity_above: {LAYER: 0.7}`: fraction of the layer's weights that are zero.
  case layerSparsityAbove(layer: String, Double)
  /// `pressed: v`: the learner pressed this key since the step began.
  case pressed(String)
  /// `screen: compare`: the screen on top has this word in its title.
  case screen(String)
  /// `search_complete: 6`: the study on the Search screen has at least this many complete trials.
  case searchComplete(Int)
  /// `model: trial`: the model on the workbench has this text in its name (a search trial's does).
  case modelNamed(String)
}

/// What a check says about the workbench now.
public enum CheckOutcome: Sendable, Equatable {
  case met
  /// Not yet; the text says what is still missing.
  case waiting(String)
  /// Cannot be met as things are (a step failed, a step is missing); the text says what went
  /// wrong and how to continue.
  case blocked(String)
}

/// Everything a check may look at.
public struct TutorialContext: Sendable {
  public var state: WorkbenchState
  public var pipeline: [StepSpec]
  /// Techniques, for settings left at their defaults.
  public var techniques: [TechniqueDescriptor]
  /// Keys pressed since the current step began, as `TutorialKeys.name` spells them.
  public var pressed: Set<String>
  /// The title of the screen on top.
  public var screen: String

  public init(
    state: WorkbenchState, pipeline: [StepSpec], techniques: [TechniqueDescriptor] = [],
    pressed: Set<String> = [], screen: String = "workbench"
  ) {
    self.state = state
    self.pipeline = pipeline
    self.techniques = techniques
    self.pressed = pressed
    self.screen = screen
  }

  /// A step's setting as text: set in the pipeline, else the technique's default.
  func setting(step: String, key: String) -> String? {
    guard let spec = pipeline.first(where: { $0.name == step }) else { return nil }
    let parameter = techniques.first { $0.name == spec.technique }?.parameters.first { $0.key == key }
    if let value = spec[key] { return parameter?.text(of: value) ?? value.description }
    return parameter.map { $0.text(of: $0.defaultValue) }
  }
}

extension TutorialCheck {
  /// Evaluates the check; a failed step or a missing one blocks rather than waits.
  public func evaluate(_ context: TutorialContext) -> CheckOutcome {
    let state = context.state
    switch self {
    case .stepDone(let name):
      guard let step = state.steps.first(where: { $0.name == name }) else { return missingStep(name) }
      switch step.state {
      case .done: return .met
      case .failed(let reason):
        return .blocked(
          "step \(name) failed: \(reason). Press e to change its settings and n to run it again, "
            + "or leave the tutorial with X.")
      case .running: return .waiting("step \(name) is running")
      case .pending: return .waiting("step \(name) has not run yet")
      }
    case .setting(let step, let key, let value):
      guard context.pipeline.contains(where: { $0.name == step }) else { return missingStep(step) }
      let current = context.setting(step: step, key: key) ?? "(unset)"
      if Self.same(current, value) { return .met }
      return .waiting("\(key) of \(step) is \(current), not \(value)")
    case .accuracyAbove(let threshold):
      guard let accuracy = state.model?.totals.accuracy else { return .waiting("the model is not measured yet") }
      if accuracy > threshold { return .met }
      return .waiting(
        "accuracy is \(Format.percent(accuracy)), the tutorial wants above \(Format.percent(threshold))")
    case .layerKernel(let layer, let text):
      guard let row = state.model?.layers.first(where: { $0.name == layer }) else { return missingLayer(layer) }
      if row.kernel.localizedCaseInsensitiveContains(text) { return .met }
      return .waiting("\(layer) runs on \(row.kernel), not \(text)")
    case .layerSparsityAbove(let layer, let threshold):
      guard let row = state.model?.layers.first(where: { $0.name == layer }) else { return missingLayer(layer) }
      if row.sparsity > threshold { return .met }
      return .waiting(
        "\(layer) is \(Format.percent(row.sparsity, digits: 0)) zeros, not above "
          + Format.percent(threshold, digits: 0))
    case .pressed(let key):
      return context.pressed.contains(key) ? .met : .waiting("press \(key)")
    case .screen(let word):
      return context.screen.localizedCaseInsensitiveContains(word) ? .met : .waiting("open the \(word) screen")
    case .searchComplete(let count):
      guard let search = state.search else { return .waiting("no study yet: s opens the Search screen") }
      let complete = search.trials.filter { $0.state == .complete }.count
      if complete >= count { return .met }
      if !search.isRunning {
        return .blocked(
          "the study ended with \(complete) complete trials, not \(count): press n on the Search screen "
            + "and start one with more trials, or X to leave.")
      }
      return .waiting("\(complete) of \(count) trials complete")
    case .modelNamed(let text):
      guard let model = state.model else { return .waiting("no model is open") }
      if model.name.localizedCaseInsensitiveContains(text) { return .met }
      return .waiting("the model is \(model.name), not one named \(text)")
    }
  }

  private func missingStep(_ name: String) -> CheckOutcome {
    .blocked(
      "the pipeline has no step named \(name) any more. Press T and restart the tutorial to get its pipeline back, "
        + "or X to leave.")
  }

  private func missingLayer(_ name: String) -> CheckOutcome {
    .blocked("the model has no layer \(name). Press T and restart the tutorial, or X to leave.")
  }

  /// Numbers compare as numbers (0.8 = 0.80), anything else as case-insensitive text.
  static func same(_ a: String, _ b: String) -> Bool {
    let trimmedA = a.trimmingCharacters(in: .whitespaces)
    let trimmedB = b.trimmingCharacters(in: .whitespaces)
    if let x = Double(trimmedA), let y = Double(trimmedB) { return abs(x - y) <= 1e-9 * max(1, abs(y)) }
    return trimmedA.caseInsensitiveCompare(trimmedB) == .orderedSame
  }
}

extension Array where Element == TutorialCheck {
  /// All checks together: blocked beats waiting beats met, so the learner hears the worst news first.
  public func evaluate(_ context: TutorialContext) -> CheckOutcome {
    var waiting: String?
    for check in self {
      switch check.evaluate(context) {
      case .met: continue
      case .blocked(let reason): return .blocked(reason)
      case .waiting(let reason): if waiting == nil { waiting = reason }
      }
    }
    return waiting.map(CheckOutcome.waiting) ?? .met
  }
}
