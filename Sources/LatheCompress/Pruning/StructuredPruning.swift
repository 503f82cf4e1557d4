import LatheTensor

/// Structured pruning: whole channels (output neurons of Linear layers, filters of Conv2d
/// layers) are ranked by the norm of their weights and physically removed, together with
/// everything the graph ties to them (`ChannelGroups`): batch norms, depthwise filters, the
/// other side of a residual Add or a squeeze-excitation Mul, constants, the input columns of
/// the layers that read them. The model gets smaller and faster, not just sparser.
public enum StructuredPruning {
  public enum Criterion: Sendable { case l1, l2 }

  /// What one pruning did.
  public struct Summary: Sendable, Equatable {
    /// Multiply-accumulates of one example through the Linear and Conv2d layers.
    public var macsBefore: Int
    public var macsAfter: Int
    /// Groups that lost channels, and how many groups could.
    public var groupsPruned: Int
    public var prunableGroups: Int
    /// The fraction of each pruned group's channels removed (the same for every group when a
    /// MAC target chose it).
    public var fraction: Double?

    public var macRatio: Double { macsBefore == 0 ? 1 : Double(macsAfter) / Double(macsBefore) }
  }

  /// The model's channel groups (`ChannelGroups`); a group whose producers are all named by
  /// `sparsity` can be pruned when `isPrunable`.
  public static func groups(in model: Model) -> ChannelGroups { ChannelGroups(model) }

  /// Removes the weakest `sparsity(layer)` fraction of channels from every prunable group (the
  /// first of its producers, in node order, with a target sets it; groups with none are left
  /// alone); at least one channel always stays.
  @discardableResult
  public static func prune(_ model: Model, sparsity: (String) -> Double?, criterion: Criterion) throws -> Summary {
    let groups = ChannelGroups(model)
    var fractions: [Int: Double] = [:]
    for (g, group) in groups.groups.enumerated() where group.isPrunable {
      if let fraction = group.producers.lazy.compactMap(sparsity).first, fraction > 0 { fractions[g] = fraction }
    }
    return apply(model, groups, fractions: fractions, criterion: criterion, fraction: nil)
  }

  /// Removes the same fraction of channels from every prunable group, the smallest fraction
  /// (found by bisection) that brings the model's MACs to `targetMACs` of what they are
  /// (or as close as one channel per group allows).
  ///
  /// One fraction for all groups rather than a global ranking: weight norms of different layers
  /// are on different scales (more so after batch norm is folded into them), so ranking across
  /// layers would mostly measure the scales; a uniform fraction keeps every layer's width in
  /// proportion and leaves the recovery to fine-tuning.
  @discardableResult
  public static func prune(_ model: Model, targetMACs: Double, criterion: Criterion) throws -> Summary {
    let groups = ChannelGroups(model)
    let prunable = groups.groups.indices.filter { groups.groups[$0].isPrunable }
    let total = Double(max(groups.macs, 1))
    func counts(_ fraction: Double) -> [Int: Int] {
      Dictionary(uniqueKeysWithValues: prunable.map { ($0, keptCount(groups.groups[$0].channels, fraction)) })
    }
    func ratio(_ fraction: Double) -> Double { Double(groups.macs(keeping: counts(fraction))) / total }
    var (low, high) = (0.0, 0.999)
    if ratio(0) > targetMACs {
      for _ in 0..<40 {
        let middle = (low + high) / 2
        if ratio(middle) <= targetMACs { high = middle } else { low = middle }
      }
    } else {
      high = 0
    }
    let fractions = Dictionary(uniqueKeysWithValues: prunable.map { ($0, high) })
    return apply(model, groups, fractions: high > 0 ? fractions : [:], criterion: criterion, fraction: high)
  }

  /// Channels a group of `channels` keeps after removing `fraction` of them (at least one).
  static func keptCount(_ channels: Int, _ fraction: Double) -> Int {
    max(1, channels - Int((Double(channels) * fraction).rounded()))
  }

  /// Ranks and removes. Groups are ranked in order, each on its producers' weights without the
  /// input columns that earlier groups removed (what the pruned model's weights hold).
  static func apply(
    _ model: Model, _ groups: ChannelGroups, fractions: [Int: Double], criterion: Criterion, fraction: Double?
  ) -> Summary {
    let before = groups.macs
    var keep: [Int: [Int]] = [:]
    var inputLayouts: [String: ChannelGroups.Layout] = [:]
    for case .consumer(let name, let layout) in groups.edits { inputLayouts[name] = layout }
    for (g, group) in groups.groups.enumerated() {
      guard let f = fractions[g], group.isPrunable else { continue }
      let count = keptCount(group.channels, f)
      guard count < group.channels else { continue }
      var norms = [Float](repeating: 0, count: group.channels)
      for producer in group.producers {
        let weight = weightOf(model, producer).value
        let columns = inputLayouts[producer].flatMap { layout in
          groups.kept(layout, keep).map { Set(expand($0, layout.perChannel)) }
        }
        for (c, norm) in rowNorms(weight, keepingColumns: columns, criterion: criterion).enumerated() {
          norms[c] += norm
        }
      }
      let order = (0..<group.channels).sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
      keep[g] = Array(order.prefix(count)).sorted()
    }
    for edit in groups.edits { perform(edit, model, groups, keep) }
    let counts = keep.mapValues(\.count)
    return Summary(
      macsBefore: before, macsAfter: groups.macs(keeping: counts), groupsPruned: keep.count,
      prunableGroups: groups.groups.filter(\.isPrunable).count, fraction: fraction)
  }

  /// Channel indices spread over `width` consecutive features each (after a flatten).
  static func expand(_ channels: [Int], _ width: Int) -> [Int] {
    width == 1 ? channels : channels.flatMap { ($0 * width)..<(($0 + 1) * width) }
  }

  /// The L1 norm or squared L2 norm of each row (axis 0) of a weight [out, in, ...], over the
  /// inputs in `columns` only (all when nil).
  static func rowNorms(_ weight: Tensor<Float>, keepingColumns columns: Set<Int>?, criterion: Criterion) -> [Float] {
    let rows = weight.shape[0]
    let inputs = weight.shape.count > 1 ? weight.shape[1] : 1
    let per = weight.count / max(rows * inputs, 1)
    let values = weight.scalars
    return (0..<rows).map { r in
      var sum: Float = 0
      for i in 0..<inputs where columns?.contains(i) ?? true {
        let start = (r * inputs + i) * per
        for v in values[start..<(start + per)] { sum += criterion == .l1 ? abs(v) : v * v }
      }
      return sum
    }
  }

  static func weightOf(_ model: Model, _ layer: String) -> Parameter {
    let node = model.nodes.first { $0.name == layer }!
    return (node.layer as? Linear)?.weight ?? (node.layer as! Conv2d).weight
  }

  static func perform(_ edit: ChannelGroups.Edit, _ model: Model, _ groups: ChannelGroups, _ keep: [Int: [Int]]) {
    func layer(_ name: String) -> Layer { model.nodes.first { $0.name == name }!.layer }
    switch edit {
    case .producer(let name):
      guard let g = groups.groups.firstIndex(where: { $0.producers.contains(name) }), let kept = keep[g] else { return }
      switch layer(name) {
      case let linear as Linear:
        select(linear.weight, axis: 0, kept)
        if let bias = linear.bias { select(bias, axis: 0, kept) }
      case let conv as Conv2d:
        select(conv.weight, axis: 0, kept)
        if let bias = conv.bias { select(bias, axis: 0, kept) }
      default: preconditionFailure("\(name) is no Linear or Conv2d")
      }
    case .channels(let name, let layout):
      guard let kept = groups.kept(layout, keep) else { return }
      let target = layer(name)
      let channels = layout.segments.reduce(0) { $0 + groups.sizes[$1] }
      for (_, parameter) in target.parameters where parameter.shape.first == channels {
        select(parameter, axis: 0, kept)
      }
      if let conv = target as? Conv2d { conv.groups = kept.count }
    case .constant(let name, let axis, let layout):
      guard let kept = groups.kept(layout, keep), let value = layer(name).parameters.first?.parameter else { return }
      select(value, axis: axis, kept)
    case .consumer(let name, let layout):
      guard let kept = groups.kept(layout, keep) else { return }
      switch layer(name) {
      case let linear as Linear: select(linear.weight, axis: 1, expand(kept, layout.perChannel))
      case let conv as Conv2d: select(conv.weight, axis: 1, kept)
      default: preconditionFailure("\(name) is no Linear or Conv2d")
      }
    case .flatten(let name, let layout):
      guard groups.kept(layout, keep) != nil else { return }
      model.replaceLayer(named: name, with: Function(.flatten(startAxis: 1)))
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
