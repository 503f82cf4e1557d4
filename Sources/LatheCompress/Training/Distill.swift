import Foundation
import LatheTensor

/// Knowledge distillation into a (usually much smaller) student, optionally with a hint:
/// a teacher feature the student learns to reproduce through a learned projection (FitNets).
public struct Distill: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "distill",
    summary: "Train a student on the teacher's softened outputs (Hinton et al. 2015), vs the same student alone.",
    parameters: [
      ParameterDescriptor(
        "student", .text, default: .string("mlp:30"),
        help: "mlp:H1,H2 (hidden widths), a built-in architecture, a model file, or \"current\""),
      ParameterDescriptor(
        "hint", .text, default: nil, help: "feature distillation: teacher_node:student_node (e.g. relu2:relu1)"),
      ParameterDescriptor("hint_weight", .float(0...100), default: .float(0.5), help: "weight of the hint loss"),
      ParameterDescriptor(
        "compare_alone", .bool, default: .bool(true), help: "also train the same student without a teacher"),
      ParameterDescriptor(
        "repeats", .int(1...20), default: .int(1),
        help: "runs with different seeds; the means are reported (one test split is noisy)"),
    ]
      + TrainingSettings.descriptors(epochs: 20, learningRate: 0.05).map { d in
        var d = d
        if d.key == "teacher" { d.defaultValue = .string("input") }
        if d.key == "alpha" { d.defaultValue = .float(0.9) }
        return d
      },
    needsTrainableModel: false)

  public let config: DistillConfig

  public init(_ config: DistillConfig) { self.config = config }

  func makeStudent(teacher: Model, current: Model, context: StepContext, seed: UInt64) throws -> Model {
    switch config.student {
    case .current: return current
    case .mlp(let widths):
      return Architecture.mlp(
        hidden: widths, inputShape: teacher.inputShape, classCount: teacher.classCount, seed: seed)
    case .architecture(let architecture): return architecture.build(classCount: teacher.classCount, seed: seed)
    case .model(let name): return try context.loadModel(name).reinitialized(seed: seed)
    }
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let teacher = try context.loadModel(c.training.teacher ?? "input")
    let repeats = c.repeats
    let compare = c.compareAlone
    let share = 1 / Double(repeats * (compare ? 2 : 1))
    var distilledAccuracies: [Float] = []
    var aloneAccuracies: [Float] = []
    var first: Model?
    for r in 0..<repeats {
      var configuration = c.training.configuration
      configuration.seed &+= UInt64(r)
      let seed = c.training.configuration.seed &+ UInt64(r)
      // "current" trains the step's model itself: earlier repeats take copies, so that every
      // repeat starts from the same model.
      let current = config.student == .current && r < repeats - 1 ? model.copy() : model
      let student = try makeStudent(teacher: teacher, current: current, context: context, seed: seed)
      let alone = compare ? student.copy() : nil
      var loss = Distillation.loss(
        teacher: teacher.logitGraph, temperature: c.training.temperature, alpha: c.training.alpha)
      var configure: ((inout Trainer) -> Void)?
      if let hintNodes = c.hint {
        let hint = try FeatureHint(
          teacher: teacher, teacherNode: hintNodes.teacherNode, student: student, studentNode: hintNodes.studentNode,
          weight: c.hintWeight, seed: seed, error: { c.source.error("hint", $0) })
        let base = loss
        loss = { logits, labels, inputs in base(logits, labels, inputs) + hint.loss(inputs: inputs) }
        configure = { trainer in
          trainer.observe = hint.observe
          trainer.extraParameters = hint.projection.parameters.map(\.parameter)
        }
      }
      let start = Double(r) * (compare ? 2 : 1) * share
      _ = try context.train(
        student, on: context.data.train, configuration, from: start, to: start + share, label: "distilling",
        loss: loss, configure: configure)
      distilledAccuracies.append(Evaluator.accuracy(of: student, on: context.data.test))
      if let alone {
        _ = try context.train(
          alone, on: context.data.train, configuration, from: start + share, to: start + 2 * share,
          label: "student alone")
        aloneAccuracies.append(Evaluator.accuracy(of: alone, on: context.data.test))
      }
      if first == nil { first = student }
    }
    func mean(_ values: [Float]) -> Double { Double(values.reduce(0, +)) / Double(max(values.count, 1)) }
    context.findings.teacherAccuracy = Double(Evaluator.accuracy(of: teacher, on: context.data.test))
    if repeats > 1 { context.findings.distilledMeanAccuracy = mean(distilledAccuracies) }
    if compare {
      if repeats > 1 {
        context.findings.studentAloneMeanAccuracy = mean(aloneAccuracies)
      } else {
        context.findings.studentAloneAccuracy = mean(aloneAccuracies)
      }
    }
    return first!
  }
}

/// The student `distill` trains, the optional feature hint, and the comparison runs.
public struct DistillConfig: TechniqueConfig {
  /// The model that learns from the teacher.
  public enum Student: Sendable, Equatable {
    /// The step's model itself.
    case current
    /// A fresh MLP with these hidden widths.
    case mlp(hidden: [Int])
    /// A fresh built-in architecture.
    case architecture(Architecture)
    /// A model file or sample, re-initialised.
    case model(String)
  }

  /// Feature distillation: the student's output at `studentNode` learns the teacher's at `teacherNode`.
  public struct Hint: Sendable, Equatable {
    public var teacherNode: String
    public var studentNode: String

    public init(teacherNode: String, studentNode: String) {
      self.teacherNode = teacherNode
      self.studentNode = studentNode
    }
  }

  public var student: Student
  public var hint: Hint?
  /// Weight of the hint loss.
  public var hintWeight: Float
  /// Also train the same student without a teacher (reported as student_alone_accuracy).
  public var compareAlone: Bool
  /// Runs with different seeds; the means are reported.
  public var repeats: Int
  /// The teacher (nil means "input", the pipeline's input model), temperature and alpha included.
  public var training: TrainingSettings
  public var source: SettingSource

  public init(
    student: Student = .mlp(hidden: [30]), hint: Hint? = nil, hintWeight: Float = 0.5, compareAlone: Bool = true,
    repeats: Int = 1, training: TrainingSettings = Self.defaultTraining, source: SettingSource = .code("distill")
  ) {
    self.student = student
    self.hint = hint
    self.hintWeight = hintWeight
    self.compareAlone = compareAlone
    self.repeats = repeats
    self.training = training
    self.source = source
  }

  /// The pipeline defaults: the input model as teacher, alpha 0.9, 20 epochs at 0.05.
  public static var defaultTraining: TrainingSettings {
    var training = TrainingSettings.defaults(epochs: 20, learningRate: 0.05)
    training.teacher = "input"
    training.alpha = 0.9
    return training
  }

  public init(_ p: StepParameters) throws {
    let text = p.string("student")
    let student: Student
    if text == "current" {
      student = .current
    } else if text.hasPrefix("mlp:") {
      let widths = text.dropFirst(4).split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw p.error("student", "expected mlp: and positive hidden widths, e.g. mlp:100,30")
      }
      student = .mlp(hidden: widths.compactMap { $0 })
    } else if let architecture = Architecture(rawValue: text) {
      student = .architecture(architecture)
    } else {
      student = .model(text)
    }
    var hint: Hint?
    if p.isSet("hint") {
      let names = p.string("hint").split(separator: ":").map(String.init)
      guard names.count == 2 else { throw p.error("hint", "expected teacher_node:student_node") }
      hint = Hint(teacherNode: names[0], studentNode: names[1])
    }
    self.init(
      student: student, hint: hint, hintWeight: p.float("hint_weight"), compareAlone: p.bool("compare_alone"),
      repeats: p.int("repeats"), training: TrainingSettings(p), source: p.source)
  }
}
