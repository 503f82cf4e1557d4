/// A guided lesson in the workbench: it opens a model, a dataset and a pipeline, then walks the
/// learner through steps, each checked against the live session before the next one starts.
/// Tutorials are YAML files under `samples/tutorials/` so teachers can write their own.
public struct Tutorial: Sendable, Equatable {
  /// The file name without `.yaml`; what `lathe tutorial NAME` takes.
  public var name: String
  public var title: String
  /// One line for lists: what the learner will know afterwards.
  public var summary: String
  /// About how long it takes, measured by running it end to end.
  public var minutes: Int
  /// What the tutorial opens (sample name or path, catalog name, pipeline path).
  public var model: String
  public var dataset: String?
  public var pipeline: String?
  public var steps: [TutorialStep]
  /// Shown after the last step, placeholders filled from the run.
  public var closing: String
  /// Where it was read from, for error messages.
  public var file: String

  public init(
    name: String, title: String, summary: String, minutes: Int, model: String, dataset: String?,
    pipeline: String?, steps: [TutorialStep], closing: String, file: String
  ) {
    self.name = name
    self.title = title
    self.summary = summary
    self.minutes = minutes
    self.model = model
    self.dataset = dataset
    self.pipeline = pipeline
    self.steps = steps
    self.closing = closing
    self.file = file
  }
}

/// One thing the learner reads and does.
public struct TutorialStep: Sendable, Equatable {
  /// What the step explains, with placeholders such as `{accuracy}`.
  public var text: String
  /// The action asked for, shown highlighted ("press n", "set sparsity to 0.8").
  public var action: String?
  /// All must hold before the learner can go on; empty for a step that only explains.
  public var checks: [TutorialCheck]
  /// Shown one more after each wrong try (going on too early, or a run that missed the check).
  public var hints: [String]
  /// Shown once the checks hold: what changed, with the numbers.
  public var done: String?
  /// Values to remember when the checks first hold, for later text as `{kept.NAME}`: the
  /// numbers of a run the learner is about to replace.
  public var keep: [KeptValue]
  /// Line of the step in its file.
  public var line: Int

  public init(
    text: String, action: String? = nil, checks: [TutorialCheck] = [], hints: [String] = [], done: String? = nil,
    keep: [KeptValue] = [], line: Int = 0
  ) {
    self.text = text
    self.action = action
    self.checks = checks
    self.hints = hints
    self.done = done
    self.keep = keep
    self.line = line
  }
}

/// `keep: {NAME: "{placeholder}"}`: a value frozen when a step's checks first hold.
public struct KeptValue: Sendable, Equatable {
  public var name: String
  public var placeholder: String
  public init(name: String, placeholder: String) {
    self.name = name
    self.placeholder = placeholder
  }
}
