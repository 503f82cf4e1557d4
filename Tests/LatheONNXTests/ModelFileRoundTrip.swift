import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

/// Saves `model` as a Lathe model file, opens it again the way a user does (`ModelOpener`), and
/// checks that it holds the same layers and gives exactly `y` for `x`; returns the reopened model
/// for the export checks that follow.
func savedAndReopened(
  _ model: Model, _ x: Tensor<Float>, expecting y: Tensor<Float>, file: StaticString = #filePath, line: UInt = #line
) throws -> Model {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-ops-\(UUID()).safetensors")
  defer { try? FileManager.default.removeItem(at: url) }
  try ModelFile.save(model, to: url)
  let back = try ModelOpener.open(url)
  XCTAssertEqual(back.nodes.map(\.layer.spec), model.nodes.map(\.layer.spec), file: file, line: line)
  XCTAssertEqual(back.predict(x).scalars, y.scalars, file: file, line: line)
  return back
}
