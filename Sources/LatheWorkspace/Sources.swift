import Foundation
import LatheCompress
import LatheIO
import LatheTensor

/// Where the files a workspace names are found: bundled samples by name, anything else by path.
public enum WorkspaceSources {
  /// The bundled `samples/` folder (or `LATHE_SAMPLES`).
  public static func samplesDirectory() throws(WorkspaceError) -> URL {
    guard let url = SamplesDirectory.locate() else {
      throw WorkspaceError("cannot find Lathe's samples/ folder; set LATHE_SAMPLES to its path")
    }
    return url
  }

  /// A bundled pipeline name (`deep-compression`) or a path.
  public static func pipelineFile(_ nameOrPath: String) throws(WorkspaceError) -> URL {
    let direct = URL(fileURLWithPath: nameOrPath)
    if FileManager.default.fileExists(atPath: direct.path) { return direct }
    let bundled = try samplesDirectory().appendingPathComponent("pipelines/\(nameOrPath).yaml")
    if FileManager.default.fileExists(atPath: bundled.path) { return bundled }
    throw WorkspaceError("\(nameOrPath): no such pipeline file, and not a bundled pipeline")
  }

  /// A bundled dataset name or a path to IDX files or a CSV.
  public static func dataset(_ nameOrPath: String) throws -> DatasetSplit {
    try DatasetCatalog.load(nameOrPath, samplesDirectory: try samplesDirectory())
  }

  /// The model a pipeline file names, if it can be read and names one.
  public static func model(ofPipeline nameOrPath: String) -> String? {
    guard let url = try? pipelineFile(nameOrPath) else { return nil }
    return (try? PipelineSpec.read(from: url))?.model
  }
}
