/// The Model panel's list of a large graph: layers grouped into blocks by name, filtered by
/// what the user types, sorted by a chosen column and folded block by block. Pure functions
/// of the layer rows, so tests can check them without drawing.

/// Layers whose names share a block prefix: `/model.10/` for `/model.10/conv/Conv`,
/// `encoder.layer.3.` for `encoder.layer.3.attention.self.query`.
public struct LayerBlock: Equatable, Sendable {
  /// The prefix, separator included ("encoder.layer.3."); shown as `encoder.layer.3.*`.
  public var prefix: String
  /// Indices into the layer rows, in graph order.
  public var members: [Int]

  public init(prefix: String, members: [Int]) {
    self.prefix = prefix
    self.members = members
  }

  /// The prefix with a `*` for the rest of the names, as the group row shows it.
  public var title: String { prefix + "*" }

  /// The blocks of `layers` with at least two members, in order of their first member; a
  /// layer whose name has no block, or whose block would hold it alone, is in none.
  public static func blocks(of layers: [LayerRow]) -> [LayerBlock] {
    var members: [String: [Int]] = [:]
    var order: [String] = []
    for (index, layer) in layers.enumerated() {
      guard let prefix = prefix(of: layer.name) else { continue }
      if members[prefix] == nil { order.append(prefix) }
      members[prefix, default: []].append(index)
    }
    return order.compactMap { prefix in
      let indices = members[prefix]!
      return indices.count >= 2 ? LayerBlock(prefix: prefix, members: indices) : nil
    }
  }

  /// The block a layer name belongs to. Names are split at `/` and `.`; the block ends after the
  /// first part that is a number with more parts after it (`/model.10/`, `layers.3.`), the
  /// repeated unit of ONNX exports and Hugging Face checkpoints. A name without one belongs to
  /// its parent path when it has one (`/conv1/` for `/conv1/Conv`, `bert.embeddings.` for
  /// `bert.embeddings.word`); a flat name (`fc1`, `Conv_12`) to none.
  public static func prefix(of name: String) -> String? {
    let separators: Set<Character> = ["/", "."]
    // The end of each part (just after the separator that closes it), and whether it is a number.
    var parts: [(end: String.Index, isNumber: Bool)] = []
    var start = name.startIndex
    for index in name.indices where separators.contains(name[index]) {
      let part = name[start..<index]
      parts.append(
        (name.index(after: index), !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)))
      start = name.index(after: index)
    }
    // `parts` now holds every part that a separator closes, so each has more of the name after it.
    if let number = parts.first(where: \.isNumber) { return String(name[..<number.end]) }
    guard let parent = parts.last, name[..<parent.end].contains(where: { !separators.contains($0) }) else {
      return nil
    }
    return String(name[..<parent.end])
  }
}

/// The column the Model panel orders layers by; `S` cycles through them.
public enum LayerSort: Int, CaseIterable, Sendable {
  /// Graph order, as the model runs.
  case graph
  /// Largest stored size first.
  case bytes
  /// Largest share of the run time first.
  case latency
  /// Most sensitive to int8 first (the KL divergence a sensitivity step measured).
  case sensitivity
  /// Furthest from the original model's output first (lowest SQNR).
  case error

  /// How the panel's title names it.
  public var label: String {
    switch self {
    case .graph: return "graph order"
    case .bytes: return "bytes"
    case .latency: return "time"
    case .sensitivity: return "int8 KL"
    case .error: return "SQNR"
    }
  }

  /// The next order after this one, back to graph order after the last.
  public var next: LayerSort { LayerSort(rawValue: (rawValue + 1) % LayerSort.allCases.count)! }

  /// The value sorted on, larger first; nil for a layer without one (it goes last).
  func key(_ layer: LayerRow, sensitivity: [String: Double]) -> Double? {
    switch self {
    case .graph: return nil
    case .bytes: return Double(layer.bytes)
    case .latency: return layer.latencyShare
    case .sensitivity: return sensitivity[layer.name]
    case .error: return layer.outputSQNR.map { -$0 }
    }
  }

  /// A block's value: the sum of its members' for sizes and times, the worst member's for
  /// sensitivity and error.
  func key(_ members: [LayerRow], sensitivity: [String: Double]) -> Double? {
    let keys = members.compactMap { key($0, sensitivity: sensitivity) }
    guard !keys.isEmpty else { return nil }
    switch self {
    case .graph: return nil
    case .bytes, .latency: return keys.reduce(0, +)
    case .sensitivity, .error: return keys.max()
    }
  }
}

/// One line of the Model panel's list.
public enum LayerListRow: Equatable, Sendable {
  /// A block's group row: `members` are all its layers, `shown` those that pass the filter (in
  /// display order), `folded` whether they are hidden under it.
  case block(LayerBlock, shown: [Int], folded: Bool)
  /// A layer (an index into the layer rows), `inBlock` when it sits under a group row.
  case layer(Int, inBlock: Bool)

  /// What stays the same across filtering, sorting and folding, so the selection can follow
  /// its row: "block <prefix>" or "layer <name>".
  public func identity(in layers: [LayerRow]) -> String {
    switch self {
    case .block(let block, _, _): return "block " + block.prefix
    case .layer(let index, _): return "layer " + layers[index].name
    }
  }
}

/// Builds the Model panel's rows.
public enum LayerList {
  /// Whether `layer` matches the typed filter: case-insensitive text in its name, op or folded
  /// activation. An empty filter matches everything.
  public static func matches(_ layer: LayerRow, filter: String) -> Bool {
    let needle = filter.lowercased()
    guard !needle.isEmpty else { return true }
    return layer.name.lowercased().contains(needle) || layer.displayOp.lowercased().contains(needle)
  }

  /// The rows to show: blocks with at least one layer passing `filter`, each followed by those
  /// layers unless its prefix is in `folded`, and layers outside blocks, in `sort` order (blocks
  /// placed by their own value, layers within a block sorted among themselves). `sensitivity`
  /// holds the int8 KL by layer name, for that order.
  public static func rows(
    _ layers: [LayerRow], blocks: [LayerBlock], filter: String = "", sort: LayerSort = .graph,
    folded: Set<String> = [], sensitivity: [String: Double] = [:]
  ) -> [LayerListRow] {
    var blockOf: [Int: Int] = [:]
    for (b, block) in blocks.enumerated() { for member in block.members { blockOf[member] = b } }
    // Top-level items (a block or a lone layer) at the position of their first layer.
    enum Item {
      case block(Int, shown: [Int])
      case layer(Int)
    }
    var items: [Item] = []
    var placed = Set<Int>()
    for index in layers.indices {
      if let b = blockOf[index] {
        guard !placed.contains(b) else { continue }
        placed.insert(b)
        let shown = blocks[b].members.filter { matches(layers[$0], filter: filter) }
        if !shown.isEmpty { items.append(.block(b, shown: order(shown, layers, sort, sensitivity))) }
      } else if matches(layers[index], filter: filter) {
        items.append(.layer(index))
      }
    }
    if sort != .graph {
      func key(_ item: Item) -> Double? {
        switch item {
        case .block(let b, _): return sort.key(blocks[b].members.map { layers[$0] }, sensitivity: sensitivity)
        case .layer(let index): return sort.key(layers[index], sensitivity: sensitivity)
        }
      }
      // A stable sort: equal keys keep graph order.
      items = items.enumerated().sorted { a, b in
        descending(key(a.element), key(b.element)) ?? (a.offset < b.offset)
      }.map(\.element)
    }
    var rows: [LayerListRow] = []
    for item in items {
      switch item {
      case .block(let b, let shown):
        let isFolded = folded.contains(blocks[b].prefix)
        rows.append(.block(blocks[b], shown: shown, folded: isFolded))
        if !isFolded { rows += shown.map { .layer($0, inBlock: true) } }
      case .layer(let index):
        rows.append(.layer(index, inBlock: false))
      }
    }
    return rows
  }

  /// `indices` in `sort` order, graph order among equals and for `.graph`.
  private static func order(_ indices: [Int], _ layers: [LayerRow], _ sort: LayerSort, _ sensitivity: [String: Double])
    -> [Int]
  {
    guard sort != .graph else { return indices }
    return indices.sorted { a, b in
      descending(sort.key(layers[a], sensitivity: sensitivity), sort.key(layers[b], sensitivity: sensitivity))
        ?? (a < b)
    }
  }

  /// Whether `a` goes before `b` with larger values first and missing values last; nil when
  /// they tie.
  private static func descending(_ a: Double?, _ b: Double?) -> Bool? {
    switch (a, b) {
    case (let a?, let b?): return a == b ? nil : a > b
    case (.some, nil): return true
    case (nil, .some): return false
    case (nil, nil): return nil
    }
  }
}
