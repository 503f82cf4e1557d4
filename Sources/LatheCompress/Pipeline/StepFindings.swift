/// What a step found besides the standard metrics: baselines it trained or measured to compare
/// with. Each field belongs to one technique; `metricsExtra` turns them into the
/// `StepMetrics.extra` keys that `lathe run --json` writes and the workbench reads.
public struct StepFindings: Sendable, Equatable {
  /// qat: post-training int8 of the step's input model, for comparison.
  public var ptqAccuracy: Double?
  /// qat: the fake-quantized model before conversion to int8 layers.
  public var fakeQuantAccuracy: Double?
  /// distill: the teacher on the step's test data.
  public var teacherAccuracy: Double?
  /// distill with repeats > 1: the distilled students' mean.
  public var distilledMeanAccuracy: Double?
  /// distill: the same student trained without a teacher (repeats = 1).
  public var studentAloneAccuracy: Double?
  /// distill with repeats > 1: the same students trained without a teacher, their mean.
  public var studentAloneMeanAccuracy: Double?
  /// transfer: the same architecture trained from scratch on the same labels.
  public var scratchAccuracy: Double?
  /// transfer: how many labelled examples it trained on.
  public var labelledExamples: Int?
  /// structured prune: the model's MACs after over before.
  public var macRatio: Double?
  /// structured prune: channel groups that lost channels.
  public var channelGroupsPruned: Int?
  /// structured prune with a MAC target: the fraction of channels each group lost.
  public var channelFraction: Double?
  /// sensitivity: the per-layer targets it chose.
  public var sensitivityTargets: SensitivityTargets?
  /// sensitivity in int8 mode: each layer quantized alone, most sensitive first.
  public var int8Sensitivity: [QuantizationSensitivity.Row]?
  /// weight-only with target_bits: the width it gave each layer.
  public var bitAllocation: BitAllocationFindings?
  /// quantize with max_agreement_drop: the layers it kept in fp32 and why.
  public var int8SkipList: QuantizationSensitivity.SkipList?
  /// quantize and weight-only: the layers whose integer kernel ran slower than float on one
  /// example (kept float, or computed in float for weight-only, unless pinned).
  public var slowerInt8Layers: [SlowerInt8Layer]?
  /// weight-only with gptq or awq, prune with wanda or sparsegpt: each layer's squared output
  /// error over its output's squared norm, on the calibration inputs it was compressed for.
  public var layerOutputErrors: [String: Double]?
  /// weight-only with awq: the exponent α of each layer's input scale.
  public var awqAlphas: [String: Double]?
  /// smoothquant: normalisations whose readers' inputs were smoothed, and how much the
  /// largest channel's range over the median one shrank on average.
  public var smoothedNorms: Int?
  public var activationSpreadReduction: Double?

  public init() {}

  /// The findings under their JSON keys (keys are a published format: keep them).
  public var metricsExtra: [String: Double] {
    var extra: [String: Double] = [:]
    extra["ptq_accuracy"] = ptqAccuracy
    extra["fake_quant_accuracy"] = fakeQuantAccuracy
    extra["teacher_accuracy"] = teacherAccuracy
    extra["distilled_mean_accuracy"] = distilledMeanAccuracy
    extra["student_alone_accuracy"] = studentAloneAccuracy
    extra["student_alone_mean_accuracy"] = studentAloneMeanAccuracy
    extra["scratch_accuracy"] = scratchAccuracy
    extra["labelled_examples"] = labelledExamples.map(Double.init)
    extra["mac_ratio"] = macRatio
    extra["channel_groups_pruned"] = channelGroupsPruned.map(Double.init)
    extra["channel_fraction"] = channelFraction
    extra["smoothed_norms"] = smoothedNorms.map(Double.init)
    extra["activation_spread_reduction"] = activationSpreadReduction
    for (layer, target) in sensitivityTargets?.sparsityByLayer ?? [:] { extra["target_\(layer)"] = target }
    for row in int8Sensitivity ?? [] { extra["int8_kl_\(row.layer)"] = row.meanKL }
    if let allocation = bitAllocation {
      extra["allocated_bits_per_weight"] = allocation.meanBits
      for (layer, width) in allocation.widths { extra["bits_\(layer)"] = Double(width) }
    }
    if let plan = int8SkipList {
      extra["skipped_layers"] = Double(plan.skipped.count)
      extra["agreement_all_int8"] = plan.agreementAllQuantized
      extra["agreement_with_skips"] = plan.agreementWithSkips
    }
    if let slower = slowerInt8Layers {
      extra["slower_layers"] = Double(slower.count)
      extra["kept_float_layers"] = Double(slower.filter { !$0.pinned }.count)
      // int8 time over float time, per layer (above 1: slower).
      for layer in slower { extra["slower_\(layer.name)"] = layer.int8Microseconds / layer.floatMicroseconds }
    }
    for (layer, error) in layerOutputErrors ?? [:] { extra["output_error_\(layer)"] = error }
    for (layer, alpha) in awqAlphas ?? [:] { extra["awq_alpha_\(layer)"] = alpha }
    return extra
  }
}

/// One layer the int8 speed check found slower than its float version (batch 1, this CPU).
public struct SlowerInt8Layer: Sendable, Equatable {
  public var name: String
  public var int8Microseconds: Double
  public var floatMicroseconds: Double
  /// Kept int8 all the same (`pin_int8`).
  public var pinned: Bool

  public init(name: String, int8Microseconds: Double, floatMicroseconds: Double, pinned: Bool) {
    self.name = name
    self.int8Microseconds = int8Microseconds
    self.floatMicroseconds = floatMicroseconds
    self.pinned = pinned
  }
}
