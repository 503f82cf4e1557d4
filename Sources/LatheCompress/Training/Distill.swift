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

  let parameters: StepParameters

  public init(_ p: StepParameters) throws {
    parameters = p
    let student = p.string("student")
    if student.hasPrefix("mlp:") {
      let widths = student.dropFirst(4).split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      guard !widths.isEmpty, widths.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw p.error("student", "expected mlp: and positive hidden widths, e.g. mlp:100,30")
      }
    }
    if p.isSet("hint"), p.string("hint").split(separator: ":").count != 2 {
      throw p.error("hint", "expected teacher_node:student_node")
    }
  }

  func makeStudent(teacher: Model, current: Model, context: StepContext, seed: UInt64) throws -> Model {
    let p = parameters
    let spec = p.string("student")
    if spec == "current" { return current.copy() }
    if spec.hasPrefix("mlp:") {
      let widths = spec.dropFirst(4).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
      return Architecture.mlp(
        hidden: widths, inputShape: teacher.inputShape, classCount: teacher.classCount, seed: seed)
    }
    if let architecture = Architecture(rawValue: spec) {
      return architecture.build(classCount: teacher.classCount, seed: seed)
    }
    return try context.loadModel(spec).reinitialized(seed: seed)
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let teacher = try context.loadModel(p.optionalString("teacher") ?? "input")
    let repeats = p.int("repeats")
    let compare = p.bool("compare_alone")
    let share = 1 / Double(repeats * (compare ? 2 : 1))
    var distilledAccuracies: [Float] = []
    var aloneAccuracies: [Float] = []
    var first: Model?
    for r in 0..<repeats {
      var configuration = TrainingSettings.configuration(p)
      configuration.seed &+= UInt64(r)
      let seed = UInt64(p.int("seed") + r)
      let student = try makeStudent(teacher: teacher, current: model, context: context, seed: seed)
      let alone = compare ? student.copy() : nil
      var loss = Distillation.loss(teacher: teacher, temperature: p.float("temperature"), alpha: p.float("alpha"))
      var configure: ((inout Trainer) -> Void)?
      if p.isSet("hint") {
        let names = p.string("hint").split(separator: ":").map(String.init)
        let hint = try FeatureHint(
          teacher: teacher, teacherNode: names[0], student: student, studentNode: names[1],
          weight: p.float("hint_weight"), seed: seed, error: { p.error("hint", $0) })
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
    context.extra["teacher_accuracy"] = Double(Evaluator.accuracy(of: teacher, on: context.data.test))
    if repeats > 1 { context.extra["distilled_mean_accuracy"] = mean(distilledAccuracies) }
    if compare {
      context.extra[repeats > 1 ? "student_alone_mean_accuracy" : "student_alone_accuracy"] = mean(aloneAccuracies)
    }
    return first!
  }
}

/// Feature distillation: the student's feature at one node, projected by a learned linear map,
/// is pulled toward the teacher's feature at another (MSE).
final class FeatureHint: @unchecked Sendable {
  let teacher: Model
  let teacherNode: String
  let studentNode: String
  let weight: Float
  let projection: Linear
  private var studentFeature: Variable?

  init(
    teacher: Model, teacherNode: String, student: Model, studentNode: String, weight: Float, seed: UInt64,
    error: (String) -> PipelineError
  ) throws {
    let teacherShapes = teacher.outputShapes()
    let studentShapes = student.outputShapes()
    guard let t = teacherShapes[teacherNode] else { throw error("the teacher has no node \"\(teacherNode)\"") }
    guard let s = studentShapes[studentNode] else { throw error("the student has no node \"\(studentNode)\"") }
    self.teacher = teacher
    self.teacherNode = teacherNode
    self.studentNode = studentNode
    self.weight = weight
    var g = SeededGenerator(seed: seed &+ 7)
    projection = Linear(inputs: s.dropFirst().reduce(1, *), outputs: t.dropFirst().reduce(1, *), generator: &g)
  }

  /// Keeps the student's feature from the current training forward pass.
  func observe(_ node: Node, _ inputs: [Variable], _ output: Variable) {
    if node.name == studentNode { studentFeature = output }
  }

  func loss(inputs: Tensor<Float>) -> Variable {
    guard let feature = studentFeature else { preconditionFailure("hint node never ran") }
    studentFeature = nil
    var target: Tensor<Float>?
    GradientRecording.disabled {
      var context = ForwardContext.inference
      _ = teacher.forward(
        Variable(inputs.reshaped([inputs.shape[0]] + teacher.inputShape)), context: &context,
        observe: { node, _, output in if node.name == self.teacherNode { target = output.value } })
    }
    let batch = inputs.shape[0]
    var context = ForwardContext(isTraining: true)
    let projected = projection.forward([feature.flattened()], context: &context)
    return projected.meanSquaredError(Variable(target!.reshaped([batch, -1]))) * weight
  }
}
