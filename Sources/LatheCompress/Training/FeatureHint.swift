import LatheTensor

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
