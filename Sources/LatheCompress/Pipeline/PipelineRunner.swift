import Foundation
import LatheIO
import LatheTensor

/// Runs a pipeline one step at a time, keeping a snapshot (model and metrics) after each, so a
/// caller (the CLI, the workbench) can show progress, cancel a step, or step back.
///
/// Not thread-safe: one caller drives it, possibly from a background thread.
public final class PipelineRunner: @unchecked Sendable {
  public struct Snapshot {
    /// The model as the steps leave it (trainable, with masks and codebooks).
    public var model: Model
    /// The same model as saved and loaded back (compressed layers, real kernels).
    public var deployed: Model
    public var metrics: StepMetrics
  }

  public private(set) var spec: PipelineSpec
  /// The data steps train and are measured on; a transfer step can change it.
  public private(set) var data: DatasetSplit
  public let outputDirectory: URL
  public private(set) var snapshots: [Snapshot] = []
  /// The data each snapshot was measured on (index as `snapshots`), so stepping back restores it.
  private var dataHistory: [DatasetSplit] = []
  private(set) var techniques: [any Technique]
  let loadModel: (String) throws -> Model
  let options: ModelMeasurement.Options
  /// What the steps run so far left for later ones.
  private(set) var state = PipelineState()

  /// Checks every step's settings before anything runs. `model` is the starting model;
  /// step models are written to `outputDirectory` as `NN-name.safetensors`.
  public init(
    spec: PipelineSpec, model: Model, data: DatasetSplit, outputDirectory: URL,
    loadModel: @escaping (String) throws -> Model, options: ModelMeasurement.Options = .init()
  ) throws {
    self.spec = spec
    self.data = data
    self.outputDirectory = outputDirectory
    self.loadModel = loadModel
    self.options = options
    let file = spec.file?.path ?? spec.name
    techniques = try spec.steps.map { try Techniques.make($0, file: file) }
    try AtomicFile.createFolder(outputDirectory)
    initialModel = model
    // A `from:` naming no earlier step is an error before anything runs.
    for index in spec.steps.indices { _ = try startSnapshot(of: index) }
  }

  private let initialModel: Model

  public var isStarted: Bool { !snapshots.isEmpty }
  public var isFinished: Bool { snapshots.count == spec.steps.count + 1 }
  /// Index into `spec.steps` of the step that runs next.
  public var nextStep: Int { max(snapshots.count - 1, 0) }
  public var current: Snapshot? { snapshots.last }

  /// Measures the input model the same way as every step (the first entry of the results). The
  /// larger latency batch chosen here is the one every step is timed at, so their figures compare.
  @discardableResult
  public func measureInput() throws -> StepMetrics {
    if let first = snapshots.first { return first.metrics }
    let (metrics, deployed) = try ModelMeasurement.measure(
      initialModel, name: "input", technique: "none", test: data.test, path: path(0, "input"), originalSize: nil,
      wallSeconds: 0, options: options)
    snapshots = [Snapshot(model: initialModel, deployed: deployed, metrics: metrics)]
    dataHistory = [data]
    return metrics
  }

  /// Runs the next step. On failure or cancellation the snapshots are unchanged.
  @discardableResult
  public func runNextStep(
    progress: @escaping (StepProgress) -> Void = { _ in }, isCancelled: @escaping () -> Bool = { false }
  ) throws -> StepMetrics {
    try measureInput()
    guard !isFinished else { throw StepFailure("the pipeline has no more steps") }
    let index = nextStep
    let step = spec.steps[index]
    let input = initialModel
    let load = loadModel
    let context = StepContext(
      data: data, loadModel: { name in name == "input" ? input.copy() : try load(name) }, progress: progress,
      isCancelled: isCancelled, state: state)
    context.outputDirectory = outputDirectory
    context.fullData = dataHistory.first
    let type = type(of: techniques[index])
    var current = snapshots[try startSnapshot(of: index)].model
    if type.descriptor.needsTrainableModel {
      // A model opened from a pruned file (a search trial's) holds sparse inference layers:
      // they train again as masked dense ones.
      current = Deployment.trainingModel(current)
      try Self.checkTrainable(current, for: step)
    }
    // An .npy, .npz or ImageFolder without train arrays has an empty train split; techniques
    // calibrate and fine-tune on it, so refuse here rather than inside one of them.
    if data.train.count == 0 && type.descriptor.needsTrainData {
      throw StepFailure(
        "\(step.name): \(step.technique) calibrates or trains on the train split, but \(data.train.name) has none; "
          + "add x_train/y_train to the .npz, or train/ and val/ folders to the ImageFolder")
    }
    // Data without labels measures agreement with the input model; a technique that trains
    // on a loss over labels cannot run on it.
    if !data.train.isLabelled && data.train.nextTokens == nil && data.train.count > 0 && techniques[index].needsLabels {
      throw StepFailure(
        "\(step.name): \(step.technique) trains on labels, but \(data.train.name) has none; "
          + "add a \"y\" array to the .npz, or class folders to the ImageFolder")
    }
    let start = Date()
    // The one copy of the step's input: techniques change the model they are given, and the
    // snapshot must stay as it is so stepping back can return to it.
    let model = try techniques[index].apply(to: current.copy(), context: context)
    let seconds = Date().timeIntervalSince(start)
    // Training on bad data (huge pixel values) can diverge: such a model must fail the step,
    // not be saved as a file no reader accepts.
    if let (name, _) = model.namedParameters.first(where: { !$0.parameter.value.scalars.allSatisfy(\.isFinite) }) {
      throw StepFailure(
        "\(step.name): \(step.technique) produced NaN or infinite values in \(name); "
          + "check the dataset's value range or lower the learning rate")
    }
    progress(StepProgress(fraction: 1, message: "measuring"))
    var (metrics, deployed) = try ModelMeasurement.measure(
      model, name: step.name, technique: step.technique, test: context.data.test, path: path(index + 1, step.name),
      originalSize: snapshots[0].metrics.sizeBytes, wallSeconds: seconds, options: options,
      reference: snapshots[0].deployed, latencyBatch: snapshots[0].metrics.latencyUs.batch)
    // The comparison with the input model (measured above) and the technique's own findings.
    metrics.extra.merge(context.findings.metricsExtra) { measured, _ in measured }
    state = context.state
    data = context.data
    dataHistory.append(data)
    snapshots.append(Snapshot(model: model, deployed: deployed, metrics: metrics))
    return metrics
  }

  /// Refuses a training step on a model that cannot train, naming the layers that stop it.
  static func checkTrainable(_ model: Model, for step: StepSpec) throws {
    // Some layers end training (int8: no gradient, only batch norm would be left to train).
    let ended = model.nodes.filter { !$0.layer.allowsTraining }
    if !ended.isEmpty {
      throw StepFailure(
        "\(step.name): \(step.technique) trains, but the model can no longer train: "
          + "\(layerList(ended)) pass no gradient; put \(step.technique) before quantize")
    }
    guard model.trainableParameters.isEmpty else { return }
    // Shared (codebook, Huffman) weights and 2:4 layers are stored for inference only.
    let stored = model.nodes.filter { node in
      node.layer.effectiveWeight != nil
        && !node.layer.parameters.contains { $0.name == "weight" && $0.parameter.isTrainable }
    }
    let which = stored.isEmpty ? "it has no trainable weights" : "\(layerList(stored)) are stored for inference only"
    throw StepFailure(
      "\(step.name): \(step.technique) trains, but the model cannot: \(which); "
        + "run it on the model these layers were made from, before the step that stored them so")
  }

  /// "fc1 (int8_linear), fc2 (int8_linear)", at most three named.
  private static func layerList(_ nodes: [Node]) -> String {
    let named = nodes.prefix(3).map { "\($0.name) (\($0.layer.op))" }.joined(separator: ", ")
    return nodes.count > 3 ? named + " and \(nodes.count - 3) more" : named
  }

  /// The snapshot step `index` starts from (`StepSpec.start`): the input model, an earlier
  /// step's result, or the step before.
  public func startSnapshot(of index: Int) throws -> Int {
    let step = spec.steps[index]
    guard let start = step.start else { return index }
    if start == "input" { return 0 }
    guard let earlier = spec.steps.prefix(index).firstIndex(where: { $0.name == start }) else {
      let file = spec.file?.path ?? spec.name
      throw PipelineError(
        file: file, line: step.parameterLines[StepSpec.startKey] ?? step.line, key: StepSpec.startKey,
        message: "no earlier step is named \"\(start)\"; use input, previous or an earlier step's name")
    }
    return earlier + 1
  }

  /// Runs every remaining step.
  public func runAll(progress: @escaping (Int, StepProgress) -> Void = { _, _ in }) throws -> [StepMetrics] {
    try measureInput()
    while !isFinished {
      let index = nextStep
      try runNextStep(progress: { progress(index, $0) })
    }
    return snapshots.map(\.metrics)
  }

  /// Replaces the pipeline's steps, validating them first. Steps already run keep their
  /// results as long as they run the same (`TechniqueDescriptor.runsTheSame`: a default written
  /// out or settings in another order change nothing); from the first changed one on, they run
  /// again.
  public func replaceSteps(_ steps: [StepSpec]) throws {
    let file = spec.file?.path ?? spec.name
    let made = try steps.map { try Techniques.make($0, file: file) }
    var keep = 0
    while keep < min(steps.count, spec.steps.count), keep + 1 < snapshots.count,
      type(of: made[keep]).descriptor.runsTheSame(steps[keep], as: spec.steps[keep])
    {
      keep += 1
    }
    while snapshots.count > keep + 1 { stepBack() }
    spec.steps = steps
    techniques = made
  }

  /// Drops the last step's snapshot so it can run again (the workbench's undo).
  public func stepBack() {
    if snapshots.count > 1 {
      snapshots.removeLast()
      dataHistory.removeLast()
      data = dataHistory.last!
    }
  }

  private func path(_ index: Int, _ name: String) -> URL {
    let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    return outputDirectory.appendingPathComponent(String(format: "%02d-%@.safetensors", index, safe))
  }
}
