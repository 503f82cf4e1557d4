import Foundation

/// A list of nodes as a model file holds it: the model's own graph, and the subgraphs some
/// layers carry (an ONNX `If`'s branches, a `Loop`'s body), which are written the same way —
/// their descriptions in the layer's spec, their tensors under the layer's node name
/// ("if_0.then.conv.weight").
public enum NodeList {
  /// Each node as data.
  public static func describe(_ nodes: [Node]) -> [ModelDescription.NodeDescription] {
    nodes.map {
      .init(name: $0.name, op: $0.layer.spec.op, inputs: $0.inputs, attributes: $0.layer.spec.attributes)
    }
  }

  /// The nodes `descriptions` describe, with zero-filled parameters; `builders` are asked first,
  /// for ops defined outside LatheTensor. Layers built here may share state with an earlier node
  /// of the same list through `SharedLayerState`.
  public static func make(_ descriptions: [ModelDescription.NodeDescription], builders: [LayerBuilding])
    throws(ModelError) -> [Node]
  {
    func build() throws(ModelError) -> [Node] {
      var nodes: [Node] = []
      for node in descriptions {
        let spec = LayerSpec(op: node.op, attributes: node.attributes)
        var layer: Layer?
        for builder in builders where layer == nil { layer = try builder.makeLayer(spec) }
        if layer == nil { layer = try LayerFactory.make(spec) }
        nodes.append(Node(node.name, layer!, inputs: node.inputs))
      }
      return nodes
    }
    let shared = SharedLayerState(builders: builders)
    let built = SharedLayerState.$current.withValue(shared) { () -> Result<[Node], ModelError> in
      do throws(ModelError) { return .success(try build()) } catch { return .failure(error) }
    }
    let nodes = try built.get()
    try shared.linkWaiting()
    return nodes
  }

  /// Every tensor the nodes write, by name below `prefix` ("then." gives "then.fc.weight").
  public static func storedTensors(_ nodes: [Node], prefix: String = "") -> [(name: String, tensor: AnyTensor)] {
    nodes.flatMap { node in node.layer.storedTensors.map { ("\(prefix)\(node.name).\($0.name)", $0.tensor) } }
  }

  /// Restores every node from `tensors` (names below `prefix`, as `storedTensors` wrote them),
  /// resolving placeholders; returns the nodes (with resolved layers) and the names no node took.
  /// `owner` prefixes the names in errors ("if_0.then.").
  public static func restore(
    _ nodes: [Node], from tensors: [String: AnyTensor], prefix: String = "", owner: String = ""
  ) throws(ModelError) -> (nodes: [Node], unused: Set<String>) {
    var unused = Set(tensors.keys.filter { $0.hasPrefix(prefix) })
    var restored = nodes
    for index in restored.indices {
      let node = restored[index]
      let start = prefix + node.name + "."
      var local: [String: AnyTensor] = [:]
      for (name, tensor) in tensors where name.hasPrefix(start) {
        local[String(name.dropFirst(start.count))] = tensor
        unused.remove(name)
      }
      try node.layer.restore(from: local, node: owner + prefix + node.name)
      if let placeholder = node.layer as? LayerPlaceholder, let layer = placeholder.resolved {
        restored[index].layer = layer
      }
    }
    return (restored, unused)
  }
}

/// State that several layers of one node list share, met while a model file is read: each
/// output of an ONNX `If` or `Loop` is its own layer, and they run one subgraph. The layer that
/// holds the subgraph in the file registers it under a key; the others wait for it (they may
/// come first in the list) and are linked to it once the whole list is built. `current` is set
/// while `NodeList.make` builds a list.
public final class SharedLayerState: @unchecked Sendable {
  @TaskLocal public static var current: SharedLayerState?

  /// The builders the list is made with, for layers that build subgraphs of their own.
  public let builders: [LayerBuilding]
  private var objects: [String: AnyObject] = [:]
  private var waiting: [(key: String, missing: ModelError, link: (AnyObject) -> Void)] = []
  private let lock = NSLock()

  init(builders: [LayerBuilding]) { self.builders = builders }

  public func register(_ object: AnyObject, key: String) {
    lock.withLock { objects[key] = object }
  }

  /// Calls `link` with the object registered under `key` once the list is built; if none is,
  /// building the list fails with `missing`.
  public func wait(for key: String, missing: ModelError, link: @escaping (AnyObject) -> Void) {
    lock.withLock { waiting.append((key, missing, link)) }
  }

  func linkWaiting() throws(ModelError) {
    let (objects, waiting) = lock.withLock { (self.objects, self.waiting) }
    for (key, missing, link) in waiting {
      guard let object = objects[key] else { throw missing }
      link(object)
    }
  }
}

/// A layer a model file cannot always hold (an ONNX `If` whose branch is imported only when a
/// run picks it): `ModelFile.save` refuses a model holding one, saying why, instead of writing
/// a file that would not load.
public protocol SometimesUnsavable: Layer {
  /// Why the layer cannot be written now; nil when it can.
  var unsavableReason: String? { get }
}

extension NodeList {
  /// The first node (by name) that a model file cannot hold now, and why.
  public static func firstUnsavable(_ nodes: [Node]) -> (node: String, reason: String)? {
    for node in nodes {
      if let layer = node.layer as? SometimesUnsavable, let reason = layer.unsavableReason {
        return (node.name, reason)
      }
    }
    return nil
  }
}
