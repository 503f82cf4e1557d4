import Foundation
import LatheCompress
import LatheIO
import LatheWorkspace
import XCTest

final class BundledPipelineTests: XCTestCase {
  var samplesDirectory: URL { SamplesDirectory.locate()! }

  func testEveryBundledPipelineParsesAndValidates() throws {
    let folder = samplesDirectory.appendingPathComponent("pipelines")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
    XCTAssertGreaterThanOrEqual(files.count, 5)
    for file in files {
      let spec = try PipelineSpec.read(from: folder.appendingPathComponent(file))
      XCTAssertFalse(spec.steps.isEmpty, file)
      XCTAssertNotNil(spec.model, file)
      XCTAssertNotNil(spec.dataset, file)
      if spec.search != nil {
        // A study's pipeline holds ranges: it validates as a search space, each trial as a pipeline.
        XCTAssertNoThrow(try SearchablePipeline(spec) { ["fc1", "fc2", "fc3"] }, file)
        continue
      }
      for step in spec.steps { XCTAssertNoThrow(try Techniques.make(step, file: file), "\(file): \(step.name)") }
    }
  }
}
