import LatheTensor

/// The channels of a model graph that must be removed together, found by following the graph.
///
/// A Linear or groups-1 Conv2d starts a group: its output channels (weight rows). The group
/// follows them through every layer that keeps channels apart (`ChannelFlow`): activations and
/// arithmetic, batch norm and pooling, depthwise convolutions (whose filters go with the
/// channels they read), flattens into a Linear. Layers that meet two tensors channel by channel
/// join their groups into one: a residual Add, the Mul of a squeeze-excitation block (whose
/// expanding convolution's outputs thereby follow the trunk's). A Concat along the channels
/// lays its inputs' groups side by side. The next Linear or Conv2d (groups 1) is a consumer: it
/// loses the matching input columns.
///
/// Whatever the walk does not understand keeps the channels it reads: an opaque reader, a
/// grouped convolution, the model's outputs (the classes). Their groups are not prunable.
public struct ChannelGroups {
  /// Channels removed together, and why they cannot be when they cannot.
  public struct Group: Sendable, Equatable {
    public var channels: Int
    /// Linear and Conv2d nodes whose output channels these are, in node order.
    public var producers: [String]
    /// Nodes that change when the channels go: producers, depthwise convolutions, batch norms,
    /// constants, consumers and flattens.
    public var members: [String]
    /// Why the group cannot be pruned (the first reason found); nil when it can.
    public var fixedBy: String?

    public var isPrunable: Bool { fixedBy == nil }
  }

  /// One group per set of tied channels, ordered by first producer.
  public private(set) var groups: [Group] = []
  /// Multiply-accumulates of one example through every Linear and Conv2d.
  public var macs: Int { macs(keeping: [:]) }

  /// How one tensor's channel axis is made of groups: segments side by side (more than one
  /// after a Concat), on the axis `fromEnd` places from the last, each channel spread over
  /// `perChannel` consecutive features once flattened.
  struct Layout {
    var segments: [Int]
    var fromEnd: Int
    var perChannel = 1
  }

  /// What pruning changes in one node, given the kept channels of a layout.
  enum Edit {
    /// Weight rows and bias of a Linear or Conv2d.
    case producer(String)
    /// Parameters along axis 0 (batch norm; a depthwise convolution, which also changes `groups`).
    case channels(String, Layout)
    /// A constant operand of an elementwise layer, along `axis` of its value.
    case constant(String, axis: Int, Layout)
    /// Input columns of a Linear or Conv2d.
    case consumer(String, Layout)
    /// A reshape that flattens the channels: a flatten from axis 1 once they change.
    case flatten(String, Layout)
  }

  /// The MACs of one Linear or Conv2d, with the groups its outputs and inputs carry.
  struct Work {
    var macs: Int
    var output: [Int]
    var input: [Int]
  }

  var parent: [Int] = []
  var sizes: [Int] = []
  var producersOf: [[String]] = []
  var membersOf: [[String]] = []
  var fixedReason: [String?] = []
  var edits: [Edit] = []
  var work: [Work] = []
  /// Each root group's position in `groups`.
  var index: [Int: Int] = [:]

  public init(_ model: Model) { build(model) }

  private mutating func build(_ model: Model) {
    let shapes = model.outputShapes()
    var layouts: [String: Layout] = [:]
    var readers: [String: Int] = [:]
    for node in model.nodes { for input in Set(node.inputs) { readers[input, default: 0] += 1 } }
    func shape(_ name: String) -> [Int]? {
      name == "input"
        ? [1] + model.inputShape : shapes[name] ?? model.extraInputs.first { $0.name == name }?.exampleShape
    }
    for input in ["input"] + model.extraInputs.map(\.name) {
      guard let s = shape(input), s.count >= 2 else { continue }
      layouts[input] = Layout(segments: [newGroup(s[1], fixedBy: "the model's input")], fromEnd: s.count - 1)
    }
    let layers = Dictionary(model.nodes.map { ($0.name, $0.layer) }, uniquingKeysWith: { a, _ in a })

    for node in model.nodes {
      let inputs = node.inputs.map { layouts[$0] }
      func fixAll(_ reason: String) { for layout in inputs { if let layout { fix(layout, reason) } } }
      guard let out = shapes[node.name], let inShape = node.inputs.first.flatMap(shape) else {
        fixAll("\(node.name) (no shape)")
        continue
      }
      switch node.layer {
      case let conv as Conv2d:
        let inChannels = conv.weight.shape[1] * conv.groups
        let outChannels = conv.weight.shape[0]
        let macs = conv.weight.value.count * out.dropFirst(2).reduce(1, *)
        if conv.groups == 1 {
          var input: [Int] = []
          if let layout = inputs[0] {
            if layout.fromEnd == inShape.count - 1, layout.perChannel == 1 {
              consume(node.name, layout)
              input = layout.segments
            } else {
              fix(layout, node.name)
            }
          }
          let group = newGroup(outChannels, producer: node.name)
          layouts[node.name] = Layout(segments: [group], fromEnd: out.count - 1)
          work.append(Work(macs: macs, output: [group], input: input))
        } else if conv.groups == inChannels, outChannels == inChannels, let layout = inputs[0],
          layout.fromEnd == inShape.count - 1, layout.perChannel == 1
        {
          edits.append(.channels(node.name, layout))
          note(node.name, layout)
          layouts[node.name] = layout
          work.append(Work(macs: macs, output: layout.segments, input: []))
        } else {
          fixAll("\(node.name) (grouped convolution)")
          work.append(Work(macs: macs, output: [], input: []))
        }
      case let linear as Linear:
        var input: [Int] = []
        if let layout = inputs[0] {
          if layout.fromEnd == 1 {
            consume(node.name, layout)
            input = layout.segments
          } else {
            fix(layout, node.name)
          }
        }
        let group = newGroup(linear.outputs, producer: node.name)
        layouts[node.name] = Layout(segments: [group], fromEnd: 1)
        work.append(Work(macs: linear.weight.value.count * out.dropLast().reduce(1, *), output: [group], input: input))
      default:
        switch node.layer.channelFlow {
        case .elementwise:
          layouts[node.name] = elementwise(node, inputs, shapes: node.inputs.map(shape), out: out, layers, readers)
        case .perChannel:
          if let layout = inputs[0], inputs.count == 1, layout.fromEnd == inShape.count - 1, layout.perChannel == 1,
            out.count == inShape.count
          {
            if !node.layer.parameters.isEmpty {
              edits.append(.channels(node.name, layout))
              note(node.name, layout)
            }
            layouts[node.name] = layout
          } else {
            fixAll(node.name)
          }
        case .reshape:
          if let layout = inputs[0], inputs.count == 1, layout.fromEnd == inShape.count - 1, layout.perChannel == 1,
            inShape.count >= 2, out == [inShape[0], inShape.dropFirst().reduce(1, *)]
          {
            let flattened = Layout(
              segments: layout.segments, fromEnd: 1, perChannel: inShape.dropFirst(2).reduce(1, *))
            if !((node.layer as? Function)?.kind == .flatten(startAxis: 1)) {
              edits.append(.flatten(node.name, flattened))
              note(node.name, layout)
            }
            layouts[node.name] = flattened
          } else {
            fixAll(node.name)
          }
        case .concat(let axis):
          let shapesIn = node.inputs.map(shape)
          guard (axis + out.count) % out.count == 1, out.count >= 2, shapesIn.allSatisfy({ $0?.count == out.count })
          else {
            fixAll(node.name)
            continue
          }
          var segments: [Int] = []
          for (layout, s) in zip(inputs, shapesIn) {
            if let layout, layout.fromEnd == out.count - 1, layout.perChannel == 1 {
              segments += layout.segments
            } else {
              if let layout { fix(layout, node.name) }
              segments.append(newGroup(s![1], fixedBy: "\(node.name) (an input of no group)"))
            }
          }
          layouts[node.name] = Layout(segments: segments, fromEnd: out.count - 1)
        case .constant:
          break
        case .opaque:
          fixAll(node.name)
        }
      }
    }
    if let last = model.nodes.last, let layout = layouts[last.name] { fix(layout, "the model's output") }
    for name in model.extraOutputs { if let layout = layouts[name] { fix(layout, "the model's output") } }
    collect()
  }

  // MARK: Building

  private mutating func newGroup(_ channels: Int, producer: String? = nil, fixedBy: String? = nil) -> Int {
    parent.append(parent.count)
    sizes.append(channels)
    producersOf.append(producer.map { [$0] } ?? [])
    membersOf.append(producer.map { [$0] } ?? [])
    fixedReason.append(fixedBy)
    if let producer { edits.append(.producer(producer)) }
    return parent.count - 1
  }

  func find(_ g: Int) -> Int {
    var g = g
    while parent[g] != g { g = parent[g] }
    return g
  }

  private mutating func union(_ a: Int, _ b: Int) {
    let (ra, rb) = (find(a), find(b))
    guard ra != rb else { return }
    let (low, high) = (min(ra, rb), max(ra, rb))
    parent[high] = low
    producersOf[low] += producersOf[high]
    membersOf[low] += membersOf[high]
    fixedReason[low] = fixedReason[low] ?? fixedReason[high]
  }

  private mutating func fix(_ layout: Layout, _ reason: String) {
    for g in layout.segments where fixedReason[find(g)] == nil { fixedReason[find(g)] = reason }
  }

  private mutating func note(_ member: String, _ layout: Layout) {
    for g in Set(layout.segments.map(find)) where !membersOf[g].contains(member) { membersOf[g].append(member) }
  }

  private mutating func consume(_ node: String, _ layout: Layout) {
    edits.append(.consumer(node, layout))
    note(node, layout)
  }

  /// The layout of an elementwise layer's output: the inputs that carry channels on the same
  /// axis are joined into one group; constants of that size are sliced with it; anything else
  /// of that size (or a channel axis elsewhere) keeps the channels whole.
  private mutating func elementwise(
    _ node: Node, _ inputs: [Layout?], shapes: [[Int]?], out: [Int], _ layers: [String: Layer],
    _ readers: [String: Int]
  ) -> Layout? {
    // The input whose channel axis is the output's (the trunk, not a gate broadcast along it).
    let carriers = zip(inputs, shapes).compactMap { layout, s -> Layout? in
      guard let layout, let s, s.count >= layout.fromEnd, out.count >= layout.fromEnd,
        s[s.count - layout.fromEnd] == out[out.count - layout.fromEnd]
      else { return nil }
      return layout
    }
    guard let first = carriers.first ?? inputs.compactMap({ $0 }).first else { return nil }
    let f = first.fromEnd
    guard out.count >= f, shapes.allSatisfy({ $0 != nil }) else {
      for layout in inputs { if let layout { fix(layout, node.name) } }
      return nil
    }
    let size = out[out.count - f]
    let total = first.segments.reduce(0) { $0 + sizes[$1] }
    var broken = total != size
    for (k, layout) in inputs.enumerated() {
      let s = shapes[k]!
      let position = s.count - f
      let carried = position >= 0 ? s[position] : 1
      if let layout {
        let sameShape =
          layout.fromEnd == f && layout.perChannel == first.perChannel
          && layout.segments.map { sizes[$0] } == first.segments.map { sizes[$0] }
        if sameShape && carried == size {
          for (a, b) in zip(layout.segments, first.segments) { union(a, b) }
        } else {
          fix(layout, node.name)
          if carried == size && size > 1 { broken = true }
        }
      } else if carried == size && size > 1 {
        let source = node.inputs[k]
        if let layer = layers[source], layer.channelFlow == .constant, readers[source] == 1, first.perChannel == 1 {
          edits.append(.constant(source, axis: position, first))
          note(source, first)
        } else {
          broken = true
        }
      }
    }
    if broken {
      fix(first, "\(node.name) (an operand of no group)")
      return nil
    }
    return first
  }

  /// Turns the union-find into `groups`, ordered by their first producer.
  private mutating func collect() {
    let roots = Set(parent.indices.map(find)).filter { !producersOf[$0].isEmpty }.sorted()
    for root in roots {
      index[root] = groups.count
      groups.append(
        Group(channels: sizes[root], producers: producersOf[root], members: membersOf[root], fixedBy: fixedReason[root])
      )
    }
  }

  // MARK: Using

  /// The group each layout segment belongs to (an index into `groups`, nil for groups of no
  /// producer, which are never pruned).
  func groupIndex(_ segment: Int) -> Int? { index[find(segment)] }

  /// The channels a layout keeps: every segment's kept channels, offset past the segments
  /// before it; nil when none of its groups lose any.
  func kept(_ layout: Layout, _ keep: [Int: [Int]]) -> [Int]? {
    var result: [Int] = []
    var offset = 0
    var changed = false
    for segment in layout.segments {
      let channels = sizes[segment]
      if let g = groupIndex(segment), let kept = keep[g] {
        result += kept.map { $0 + offset }
        changed = true
      } else {
        result += Array(offset..<(offset + channels))
      }
      offset += channels
    }
    return changed ? result : nil
  }

  /// MACs of one example when each group `g` in `keeping` keeps `keeping[g]` channels.
  public func macs(keeping counts: [Int: Int]) -> Int {
    func ratio(_ segments: [Int]) -> Double {
      guard !segments.isEmpty else { return 1 }
      let all = segments.reduce(0) { $0 + sizes[$1] }
      let kept = segments.reduce(0) { $0 + (groupIndex($1).flatMap { counts[$0] } ?? sizes[$1]) }
      return Double(kept) / Double(max(all, 1))
    }
    return work.reduce(0) { $0 + Int((Double($1.macs) * ratio($1.output) * ratio($1.input)).rounded()) }
  }
}
