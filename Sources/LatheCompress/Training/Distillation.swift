import LatheTensor

/// Knowledge distillation (Hinton, Vinyals & Dean 2015): the student learns from the teacher's
/// softened output distribution as well as from the labels.
public enum Distillation {
  /// α·T²·KL(teacher_T ‖ student_T) + (1 − α)·CE(student, labels); the teacher runs in
  /// evaluation mode on each batch and gets no gradient. A batch without labels (a set that has
  /// none) learns from the teacher alone: T²·KL.
  public static func loss(teacher: Model, temperature: Float, alpha: Float) -> Trainer.LossFunction {
    { logits, labels, inputs in
      let teacherLogits = teacher.predict(inputs.reshaped([inputs.shape[0]] + teacher.inputShape))
      let soft = logits.distillationKL(teacherLogits: teacherLogits, temperature: temperature)
      guard !labels.isEmpty else { return soft }
      let hard = logits.crossEntropy(labels: labels)
      return soft * alpha + hard * (1 - alpha)
    }
  }
}
