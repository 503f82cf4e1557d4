import Foundation
import LatheCompress
import LatheIO
import LatheTensor

/// A pipeline with the model it starts from and the dataset it is measured on, opened and
/// checked to fit: what `lathe run` and the workbench both start from. Names the pipeline
/// file wrote that cannot be used are reported at their FILE:LINE.
public struct Workspace {
  public var pipeline: PipelineSpec
  /// The pipeline file's text as read, so a save can keep the user's comments (nil when the
  /// pipeline was made in memory).
  public var pipelineText: String?
  /// The model as named (`--model`, the pipeline's `model:`, or the workbench's choice).
  public var modelName: String
  /// The model's file, when it came from one.
  public var modelFile: URL?
  public var model: Model
  public var datasetName: String
  /// Both splits, already in the model's input shape.
  public var data: DatasetSplit

  /// Opens the pipeline file `pipeline` (a path or a bundled name); `model` and `dataset`, when
  /// given, replace the ones the file names.
  public static func open(pipeline: String, model: String? = nil, dataset: String? = nil) throws -> Workspace {
    let url = try WorkspaceSources.pipelineFile(pipeline)
    let spec = try PipelineSpec.read(from: url)
    let text = try? String(contentsOf: url, encoding: .utf8)
    return try open(spec, text: text, model: model, dataset: dataset, describedAs: pipeline)
  }

  /// A workspace with no steps yet: `model` on `dataset` (else the dataset the model says it
  /// was trained on). `classifier` nil decides: labelled data on a model of class scores is
  /// scored by its labels, anything else against the model itself; false accepts a model of any
  /// outputs (see `Dataset.fitted`).
  public static func open(model: String, dataset: String?, classifier: Bool? = nil) throws -> Workspace {
    let spec = PipelineSpec(name: "untitled", model: model, dataset: dataset, steps: [])
    return try open(spec, text: nil, model: model, dataset: dataset, describedAs: model, classifier: classifier)
  }

  /// `spec` with its model and dataset; `describedAs` names the pipeline in errors that have no line.
  public static func open(
    _ spec: PipelineSpec, text: String?, model: String?, dataset: String?, describedAs: String,
    classifier: Bool? = nil
  ) throws -> Workspace {
    guard let modelName = model ?? spec.model else {
      throw WorkspaceError("\(describedAs) names no model")
    }
    // Names taken from the file: their errors point at the line that wrote them.
    let modelKey = model == nil ? "model" : nil
    let base = model == nil ? spec.file?.deletingLastPathComponent() : nil
    let file = try? ModelOpener.resolve(modelName, relativeTo: base)
    let network = try spec.blaming(modelKey) { try ModelOpener.open(modelName, relativeTo: base) }
    guard let datasetName = dataset ?? spec.dataset ?? network.metadata["dataset"] else {
      throw WorkspaceError(
        spec.file == nil
          ? "\(modelName) does not say which dataset it was trained on; name one"
          : "\(describedAs) names no dataset, and \(modelName) does not say which one it was trained on")
    }
    let datasetKey = dataset == nil && spec.dataset != nil ? "dataset" : nil
    let raw = try spec.blaming(datasetKey) { try WorkspaceSources.dataset(datasetName) }
    let data = try spec.blaming(datasetKey ?? modelKey) {
      // Unless told, a labelled set on a model of class scores is scored by its labels, and
      // anything else (an OCR line reader, a detector, data without labels) against the model.
      let scoresClasses = network.outputShapes()[network.nodes.last?.name ?? ""]?.count == 2
      return try raw.fitted(
        to: network, modelName: modelName, classifier: classifier ?? (raw.test.isLabelled && scoresClasses))
    }
    return Workspace(
      pipeline: spec, pipelineText: text, modelName: modelName, modelFile: file, model: network,
      datasetName: datasetName, data: data)
  }

  /// A runner for the pipeline, writing step models to `outputDirectory`; models the steps
  /// name (teachers, transfer sources) open through `ModelOpener`, relative to the pipeline file.
  public func runner(outputDirectory: URL, latencySeconds: Double) throws -> PipelineRunner {
    let base = pipeline.file?.deletingLastPathComponent()
    return try PipelineRunner(
      spec: pipeline, model: model, data: data, outputDirectory: outputDirectory,
      loadModel: { try ModelOpener.open($0, relativeTo: base) },
      options: .init(latencySeconds: latencySeconds, builders: ModelOpener.builders))
  }
}

extension PipelineSpec {
  /// Runs `body`; when `key` is given (the value came from this file), its error is put at that
  /// key's line, one line as always.
  func blaming<T>(_ key: String?, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch {
      guard let key, file != nil else { throw error }
      throw self.error(key, "\(error)")
    }
  }
}
