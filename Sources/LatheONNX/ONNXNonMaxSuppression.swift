import Foundation
import LatheTensor

/// ONNX's NonMaxSuppression with constant limits: for every batch and class, boxes by score
/// (highest first, ties to the lower index), each kept unless its intersection over union with
/// a box already kept exceeds the threshold, at most `maxPerClass` of them. The output is
/// [selected, 3] rows of (batch, class, box) as exact floats; how many rows depends on the
/// values, so the layer has no shape rules and the importer probes it. Box indices take no
/// gradient.
public final class ONNXNonMaxSuppression: Layer {
  public let maxPerClass: Int
  public let iouThreshold: Float
  /// Boxes scoring at or below it are dropped; nil keeps every box.
  public let scoreThreshold: Float?
  /// Boxes are [x_center, y_center, width, height] when true, else two corners [y1, x1, y2, x2]
  /// in either order.
  public let centerPointBox: Bool

  public init(maxPerClass: Int, iouThreshold: Float, scoreThreshold: Float?, centerPointBox: Bool) {
    (self.maxPerClass, self.iouThreshold) = (maxPerClass, iouThreshold)
    (self.scoreThreshold, self.centerPointBox) = (scoreThreshold, centerPointBox)
  }

  public func copy() -> Layer {
    ONNXNonMaxSuppression(
      maxPerClass: maxPerClass, iouThreshold: iouThreshold, scoreThreshold: scoreThreshold,
      centerPointBox: centerPointBox)
  }

  /// A box as its (x, y) extents, each low to high.
  private typealias Extents = (x: ClosedRange<Float>, y: ClosedRange<Float>)

  private func extents(_ b: ArraySlice<Float>) -> Extents {
    let v = Array(b)
    if centerPointBox {
      let (w, h) = (v[2] / 2, v[3] / 2)
      return (Self.range(v[0] - w, v[0] + w), Self.range(v[1] - h, v[1] + h))
    }
    return (Self.range(v[1], v[3]), Self.range(v[0], v[2]))
  }

  private static func range(_ a: Float, _ b: Float) -> ClosedRange<Float> {
    guard !a.isNaN, !b.isNaN else { return 0...0 }
    return min(a, b)...max(a, b)
  }

  /// Whether two boxes overlap by more than the threshold (empty boxes never do).
  private func suppresses(_ p: Extents, _ q: Extents) -> Bool {
    let width = min(p.x.upperBound, q.x.upperBound) - max(p.x.lowerBound, q.x.lowerBound)
    let height = min(p.y.upperBound, q.y.upperBound) - max(p.y.lowerBound, q.y.lowerBound)
    guard width > 0, height > 0 else { return false }
    let overlap = width * height
    let area = { (b: Extents) in
      (b.x.upperBound - b.x.lowerBound) * (b.y.upperBound - b.y.lowerBound)
    }
    let union = area(p) + area(q) - overlap
    guard area(p) > 0, area(q) > 0, union > 0 else { return false }
    return overlap / union > iouThreshold
  }

  /// The selected (batch, class, box) triples of boxes [B, N, 4] and scores [B, C, N].
  public func select(boxes: Tensor<Float>, scores: Tensor<Float>) -> [(Int, Int, Int)] {
    let (b, s) = (boxes.contiguous().scalars, scores.contiguous().scalars)
    let (batches, count) = (boxes.shape[0], boxes.shape[1])
    let classes = scores.shape[1]
    var selected: [(Int, Int, Int)] = []
    for batch in 0..<batches {
      let boxes = (0..<count).map { extents(b[((batch * count + $0) * 4)..<((batch * count + $0) * 4 + 4)]) }
      for c in 0..<classes {
        let score = { (i: Int) in s[(batch * classes + c) * count + i] }
        let candidates = (0..<count).filter { i in scoreThreshold.map { score(i) > $0 } ?? true }
        let order = candidates.sorted { score($0) > score($1) || (score($0) == score($1) && $0 < $1) }
        var kept: [Int] = []
        for i in order where kept.count < maxPerClass {
          if !kept.contains(where: { suppresses(boxes[i], boxes[$0]) }) { kept.append(i) }
        }
        selected += kept.map { (batch, c, $0) }
      }
    }
    return selected
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let (boxes, scores) = (inputs[0], inputs[1])
    // Shapes the importer could not check (the layer has no rules) give no boxes, not a trap.
    let fits =
      boxes.shape.count == 3 && boxes.shape[2] == 4 && scores.shape.count == 3
      && scores.shape[0] == boxes.shape[0] && scores.shape[2] == boxes.shape[1]
    let rows = fits ? select(boxes: boxes.value, scores: scores.value) : []
    let values = rows.flatMap { [Float($0.0), Float($0.1), Float($0.2)] }
    return Variable(Tensor(shape: [rows.count, 3], scalars: values), parents: [boxes, scores]) { _ in
      [Tensor.zeros(boxes.shape), Tensor.zeros(scores.shape)]
    }
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "max_per_class": .int(maxPerClass), "iou_threshold": .float(iouThreshold),
      "center_point_box": .bool(centerPointBox),
    ]
    if let scoreThreshold { attributes["score_threshold"] = .float(scoreThreshold) }
    return LayerSpec(op: "onnx.NonMaxSuppression", attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.NonMaxSuppression" else { return nil }
    let score: Float? = s.attributes["score_threshold"] == nil ? nil : try s.float("score_threshold", default: 0)
    self.init(
      maxPerClass: try s.int("max_per_class"), iouThreshold: try s.float("iou_threshold", default: 0),
      scoreThreshold: score,
      centerPointBox: try s.bool("center_point_box", default: false))
  }
}
