import LatheTensor

/// Structured pruning: whole output neurons of Linear layers and whole filters of Conv2d
/// layers are ranked by the norm of their weights and physically removed, with the layers that
/// read them re-wired (their input columns / channels removed, batch norm channels too). The
/// model gets smaller and faster, not just sparser.
public enum StructuredPruning {
  public enum Criterion: Sendable { case l1, l2 }

  /// A layer whose outputs can be removed, and who reads them.
  public struct Site {
    public var layer: String
    /// Channel-wise layers between the producer and the consumer (batch norm is pruned too).
    var batchNorms: [BatchNorm]
    /// The next Linear or Conv2d, which loses inputs.
    var consumer: String
    /// Features per channel when a flatten sits between a conv and a linear consumer (else 1).
    var featuresPerChannel: Int
  }

  /// Layers whose units can be removed: a Linear or Conv2d whose output reaches exactly one
  /// Linear or Conv2d (groups 1) through channel-wise ops only. The model's last layer is
  /// never one (its units are the classes).
  public static func sites(in model: Model) -> [Site] {
    let shapes = model.outputShapes()
    var readers: [String: [Int]] = [:]
    for (index, node) in model.nodes.enumerated() {
      for input in node.inputs { readers[input, default: []].append(index) }
    }
    var result: [Site] = []
    for node in model.nodes where node.layer is Linear || (node.layer as? Conv2d)?.groups == 1 {
      var current = node.name
      var batchNorms: [BatchNorm] = []
      var perChannel = 1
      // A Linear's units lie on the last axis; batch norm, pooling and flatten work on axis 1
      // and later, which are its units only when its output is [batch, units].
      let unitsOnAxis1 = node.layer is Conv2d || shapes[node.name]?.count == 2
      walk: while let next = readers[current], next.count == 1 {
        let reader = model.nodes[next[0]]
        switch reader.layer {
        case let linear as Linear:
          if perChannel == 1, node.layer is Conv2d { break walk }
          if linear.inputs % max(perChannel, 1) != 0 { break walk }
          result.append(
            Site(layer: node.name, batchNorms: batchNorms, consumer: reader.name, featuresPerChannel: perChannel))
          break walk
        case let conv as Conv2d:
          if conv.groups != 1 || perChannel != 1 || node.layer is Linear { break walk }
          result.append(Site(layer: node.name, batchNorms: batchNorms, consumer: reader.name, featuresPerChannel: 1))
          break walk
        case let bn as BatchNorm:
          guard unitsOnAxis1 else { break walk }
          batchNorms.append(bn)
        case is Pool2d:
          guard unitsOnAxis1 else { break walk }
        case let f as Function:
          switch f.kind {
          case .relu, .gelu, .sigmoid, .tanh, .leakyRelu, .dropout: break
          case .flatten:
            guard unitsOnAxis1, let shape = shapes[current], shape.count == 4 else { break walk }
            perChannel = shape[2] * shape[3]
          default: break walk
          }
        default: break walk
        }
        current = reader.name
      }
    }
    return result
  }

  /// Removes the weakest `sparsity(layer)` fraction of units from every prunable layer named
  /// (layers with no target are left alone); at least one unit always stays.
  public static func prune(_ model: Model, sparsity: (String) -> Double?, criterion: Criterion) throws {
    let all = sites(in: model)
    for site in all {
      guard let fraction = sparsity(site.layer), fraction > 0 else { continue }
      let weight = weightOf(model, site.layer)
      let units = weight.shape[0]
      let keepCount = max(1, units - Int((Double(units) * fraction).rounded()))
      let keep = strongest(weight.value, keeping: keepCount, criterion: criterion)
      removeUnits(model, site: site, keeping: keep)
    }
  }

  /// Indices of the `count` output units with the largest weight norms, in ascending order.
  static func strongest(_ weight: Tensor<Float>, keeping count: Int, criterion: Criterion) -> [Int] {
    let units = weight.shape[0]
    let per = weight.count / max(units, 1)
    let values = weight.scalars
    let norms = (0..<units).map { u -> Float in
      let row = values[(u * per)..<((u + 1) * per)]
      return criterion == .l1 ? row.reduce(0) { $0 + abs($1) } : row.reduce(0) { $0 + $1 * $1 }
    }
    return Array((0..<units).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }.prefix(count))
      .sorted()
  }

  static func weightOf(_ model: Model, _ layer: String) -> Parameter {
    let node = model.nodes.first { $0.name == layer }!
    return (node.layer as? Linear)?.weight ?? (node.layer as! Conv2d).weight
  }

  /// Keeps units `keep` of the site's layer and re-wires everything downstream.
  public static func removeUnits(_ model: Model, site: Site, keeping keep: [Int]) {
    let producer = model.nodes.first { $0.name == site.layer }!.layer
    switch producer {
    case let linear as Linear:
      select(linear.weight, axis: 0, keep)
      if let bias = linear.bias { select(bias, axis: 0, keep) }
    case let conv as Conv2d:
      select(conv.weight, axis: 0, keep)
      if let bias = conv.bias { select(bias, axis: 0, keep) }
    default: preconditionFailure("not a prunable layer")
    }
    for bn in site.batchNorms {
      for (_, parameter) in bn.parameters { select(parameter, axis: 0, keep) }
    }
    let consumer = model.nodes.first { $0.name == site.consumer }!.layer
    switch consumer {
    case let linear as Linear:
      let columns = keep.flatMap { unit in (unit * site.featuresPerChannel)..<((unit + 1) * site.featuresPerChannel) }
      select(linear.weight, axis: 1, columns)
    case let conv as Conv2d:
      select(conv.weight, axis: 1, keep)
    default: preconditionFailure("not a consumer layer")
    }
  }

  /// Keeps only `indices` along `axis` of a parameter (and of its mask).
  static func select(_ parameter: Parameter, axis: Int, _ indices: [Int]) {
    func take(_ t: Tensor<Float>) -> Tensor<Float> {
      Tensor.concatenate(indices.map { t.sliced(axis: axis, $0..<($0 + 1)) }, axis: axis)
    }
    let mask = parameter.mask.map(take)
    parameter.mask = nil
    parameter.codebook = nil
    parameter.value = take(parameter.value)
    parameter.mask = mask
  }
}
