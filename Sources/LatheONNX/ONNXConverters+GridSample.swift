import Foundation
import LatheTensor

extension ONNXConverters {
  /// GridSample: opset 16 spells the modes bilinear and bicubic (and reads 4-D input only),
  /// opset 20 linear and cubic over any number of spatial axes; both become the same layer.
  static func gridSample(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let (x, grid) = (try n.required(0, "X"), try n.required(1, "grid"))
    let spelled = try a.string("mode", n.opset < 20 ? "bilinear" : "linear")
    let names: [String: ONNXGridSample.Mode] = [
      "bilinear": .linear, "linear": .linear, "nearest": .nearest, "bicubic": .cubic, "cubic": .cubic,
    ]
    guard let mode = names[spelled] else {
      throw NodeError("mode \"\(spelled)\" is not linear (bilinear), nearest or cubic (bicubic)")
    }
    let paddingName = try a.string("padding_mode", "zeros")
    guard let padding = ONNXGridSample.Padding(rawValue: paddingName) else {
      throw NodeError("padding_mode \"\(paddingName)\" is not zeros, border or reflection")
    }
    let layer = ONNXGridSample(mode: mode, padding: padding, alignCorners: try a.int("align_corners", 0) != 0)
    n.define(0, try n.emit(layer, [x, grid], hints: [n.hint(0), n.hint(1)]))
  }
}
