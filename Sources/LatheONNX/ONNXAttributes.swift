import Foundation

/// A node's attributes by name, with typed accessors whose errors say what was expected.
struct ONNXAttributes {
  private var byName: [String: Onnx_AttributeProto]

  init(_ node: Onnx_NodeProto) {
    byName = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
  }

  func has(_ name: String) -> Bool { byName[name] != nil }

  func int(_ name: String, _ fallback: Int) throws(NodeError) -> Int {
    guard let a = byName[name] else { return fallback }
    guard a.type == .int || (a.type == .undefined && a.hasI) else {
      throw NodeError("attribute \"\(name)\" should be an integer")
    }
    guard let v = Int(exactly: a.i) else { throw NodeError("attribute \"\(name)\" is out of range") }
    return v
  }

  func float(_ name: String, _ fallback: Float) throws(NodeError) -> Float {
    guard let a = byName[name] else { return fallback }
    if a.type == .int { return Float(a.i) }
    guard a.type == .float || (a.type == .undefined && a.hasF) else {
      throw NodeError("attribute \"\(name)\" should be a float")
    }
    return a.f
  }

  func ints(_ name: String) throws(NodeError) -> [Int]? {
    guard let a = byName[name] else { return nil }
    guard a.type == .ints || a.type == .undefined else { throw NodeError("attribute \"\(name)\" should be integers") }
    return a.ints.map { Int(clamping: $0) }
  }

  func floats(_ name: String) throws(NodeError) -> [Float]? {
    guard let a = byName[name] else { return nil }
    guard a.type == .floats || a.type == .undefined else { throw NodeError("attribute \"\(name)\" should be floats") }
    return a.floats
  }

  func string(_ name: String, _ fallback: String) throws(NodeError) -> String {
    guard let a = byName[name] else { return fallback }
    guard a.type == .string || (a.type == .undefined && a.hasS) else {
      throw NodeError("attribute \"\(name)\" should be a string")
    }
    return String(decoding: a.s, as: UTF8.self)
  }

  func tensor(_ name: String) -> Onnx_TensorProto? {
    guard let a = byName[name], a.hasT else { return nil }
    return a.t
  }

  func attribute(_ name: String) -> Onnx_AttributeProto? { byName[name] }
}
