import Foundation
import LatheTensor

/// ONNX's RNN, GRU and LSTM as one layer whose weights W, R, B and the peepholes P are
/// trainable parameters (`weight`, `recurrence`, `bias`, `peephole`), so pruning and
/// quantization see them. The recurrence is unrolled over the sequence with autodiff
/// primitives (matmul, slices, the activations), so the gradient is the engine's own.
///
/// A Lathe node has one output, but the operator has up to three that share the weights, so
/// the layer returns them packed along the sequence axis: Y's `seq_length` steps followed by the
/// final hidden state (Y_h) and, for LSTM, the final cell state (Y_c), as if they were more
/// steps. The converter adds a slice (Y) and a gather (Y_h, Y_c) for each output the graph
/// reads. Layout 0: [seq_length + states, directions, batch, hidden]; layout 1:
/// [batch, seq_length + states, directions, hidden].
///
/// Inputs: X, then `sequence_lens`, `initial_h` and `initial_c` when the node has them
/// (`hasSequenceLengths`, `hasInitialH`, `hasInitialC`), computed or constant.
public final class ONNXRecurrent: Layer {
  public enum Kind: String, Sendable, CaseIterable {
    case rnn = "RNN"
    case gru = "GRU"
    case lstm = "LSTM"

    /// Gates per direction in W, R and each half of B: RNN i; GRU z, r, h; LSTM i, o, f, c.
    public var gates: Int {
      switch self {
      case .rnn: return 1
      case .gru: return 3
      case .lstm: return 4
      }
    }
    /// Activation functions per direction: RNN f; GRU f, g; LSTM f, g, h.
    public var activationCount: Int { self == .rnn ? 1 : self == .gru ? 2 : 3 }
    /// The states packed after Y: the hidden state, and LSTM's cell state.
    public var states: Int { self == .lstm ? 2 : 1 }
    /// The default activations of one direction.
    var defaultActivations: [String] {
      self == .rnn ? ["Tanh"] : Array(["Sigmoid", "Tanh", "Tanh"].prefix(activationCount))
    }
  }

  public enum Direction: String, Sendable, CaseIterable {
    case forward, reverse, bidirectional
    public var count: Int { self == .bidirectional ? 2 : 1 }
  }

  public let kind: Kind
  public let direction: Direction
  public let hiddenSize: Int
  /// `kind.activationCount` per direction, the forward direction's first.
  public let activations: [ONNXRecurrentActivation]
  /// Bounds every gate's input to [-clip, clip]; nil for no clipping.
  public let clip: Float?
  /// LSTM's `input_forget`: the forget gate is 1 − the input gate.
  public let inputForget: Bool
  /// GRU's `linear_before_reset`: the reset gate scales H·Rh + Rbh rather than H.
  public let linearBeforeReset: Bool
  /// Layout 1: X, Y and the states have the batch axis first.
  public let batchFirst: Bool
  public let hasSequenceLengths: Bool
  public let hasInitialH: Bool
  public let hasInitialC: Bool
  /// W: [directions, gates·hidden, input].
  public let weight: Parameter
  /// R: [directions, gates·hidden, hidden].
  public let recurrence: Parameter
  /// B: [directions, 2·gates·hidden], W's biases then R's; nil when the node has none (zeros).
  public let bias: Parameter?
  /// P: [directions, 3·hidden], LSTM only, for the input, output and forget gates.
  public let peephole: Parameter?

  public init(
    _ kind: Kind, direction: Direction, hiddenSize: Int, activations: [ONNXRecurrentActivation], clip: Float?,
    inputForget: Bool = false, linearBeforeReset: Bool = false, batchFirst: Bool = false,
    hasSequenceLengths: Bool = false, hasInitialH: Bool = false, hasInitialC: Bool = false,
    weight: Tensor<Float>, recurrence: Tensor<Float>, bias: Tensor<Float>?, peephole: Tensor<Float>?
  ) {
    (self.kind, self.direction, self.hiddenSize, self.activations) = (kind, direction, hiddenSize, activations)
    (self.clip, self.inputForget, self.linearBeforeReset, self.batchFirst) =
      (clip, inputForget, linearBeforeReset, batchFirst)
    (self.hasSequenceLengths, self.hasInitialH, self.hasInitialC) = (hasSequenceLengths, hasInitialH, hasInitialC)
    self.weight = Parameter(weight)
    self.recurrence = Parameter(recurrence)
    self.bias = bias.map { Parameter($0) }
    self.peephole = peephole.map { Parameter($0) }
  }

  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight), ("recurrence", recurrence)] + (bias.map { [("bias", $0)] } ?? [])
      + (peephole.map { [("peephole", $0)] } ?? [])
  }

  public func copy() -> Layer {
    ONNXRecurrent(
      kind, direction: direction, hiddenSize: hiddenSize, activations: activations, clip: clip,
      inputForget: inputForget, linearBeforeReset: linearBeforeReset, batchFirst: batchFirst,
      hasSequenceLengths: hasSequenceLengths, hasInitialH: hasInitialH, hasInitialC: hasInitialC,
      weight: weight.value, recurrence: recurrence.value, bias: bias?.value, peephole: peephole?.value)
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    run(
      inputs, weight: weight.variable(), recurrence: recurrence.variable(), bias: bias?.variable(),
      peephole: peephole?.variable())
  }

  /// The optional inputs after X, in the order the layer reads them.
  func optionalInputs(_ inputs: [Variable]) -> (lengths: Variable?, h: Variable?, c: Variable?) {
    var rest = inputs.dropFirst().makeIterator()
    let lengths = hasSequenceLengths ? rest.next() : nil
    let h = hasInitialH ? rest.next() : nil
    let c = hasInitialC ? rest.next() : nil
    return (lengths, h, c)
  }

  /// The whole computation with the weights as plain variables, so tests can check the gradient
  /// with respect to each of them through one function.
  func run(
    _ inputs: [Variable], weight w: Variable, recurrence r: Variable, bias b: Variable?, peephole p: Variable?
  ) -> Variable {
    let (lengthsInput, initialH, initialC) = optionalInputs(inputs)
    // Layout 1 becomes layout 0 here and again at the end: [seq, batch, input].
    let x = batchFirst ? inputs[0].permuted([1, 0, 2]) : inputs[0]
    let (steps, batch) = (x.shape[0], x.shape[1])
    let states = [initialH, initialC].map { v in v.map { batchFirst ? $0.permuted([1, 0, 2]) : $0 } }
    // Lengths come as floats (the engine's one type); a run-time value outside 0...steps is
    // clamped, and one that is not a number counts as the whole sequence.
    let lengths = lengthsInput.map { v in
      v.value.contiguous().scalars.map { $0.isNaN ? steps : Int(min(max($0, 0), Float(steps)).rounded()) }
    }
    var outputs: [Variable] = []
    var finals: [[Variable]] = [[], []]
    for d in 0..<direction.count {
      let pick = { (v: Variable) in v.sliced(axis: 0, d..<(d + 1)).reshaped(Array(v.shape.dropFirst())) }
      let weights = DirectionWeights(
        w: pick(w), r: pick(r), bias: b.map(pick), peephole: p.map(pick),
        activations: Array(activations[(d * kind.activationCount)..<((d + 1) * kind.activationCount)]))
      let zeros = Variable(.zeros([batch, hiddenSize]))
      let reverse = direction == .reverse || d == 1
      let (y, h, c) = unroll(
        x, weights, h: states[0].map(pick) ?? zeros, c: states[1].map(pick) ?? zeros, lengths: lengths,
        reverse: reverse)
      outputs.append(y)
      finals[0].append(h.reshaped([1, 1, batch, hiddenSize]))
      finals[1].append(c.reshaped([1, 1, batch, hiddenSize]))
    }
    let y = Variable.concatenate(outputs, axis: 1)
    let packed = Variable.concatenate(
      [y] + finals.prefix(kind.states).map { Variable.concatenate($0, axis: 1) }, axis: 0)
    return batchFirst ? packed.permuted([2, 0, 1, 3]) : packed
  }

  /// One direction's slices of the weights, W and R as [gates·hidden, ·].
  struct DirectionWeights {
    let w: Variable
    let r: Variable
    let bias: Variable?
    let peephole: Variable?
    let activations: [ONNXRecurrentActivation]
  }

  /// One direction over the sequence: Y as [seq, 1, batch, hidden] and the final H and C.
  /// Steps at or past a sample's length leave its states as they were and output zeros.
  private func unroll(
    _ x: Variable, _ weights: DirectionWeights, h initialH: Variable, c initialC: Variable, lengths: [Int]?,
    reverse: Bool
  ) -> (Variable, Variable, Variable) {
    let (steps, batch, size) = (x.shape[0], x.shape[1], x.shape[2])
    let width = kind.gates * hiddenSize
    // X·Wᵀ for every step at once, with W's bias; R's bias joins each step's H·Rᵀ. `linear`
    // multiplies by the transpose in the BLAS call: transposing W and R on every run (a copy
    // element by element) was half of Silero VAD's time.
    let xw = x.reshaped([steps * batch, size]).linear(
      weight: weights.w, bias: weights.bias?.sliced(axis: 0, 0..<width))
    let recurrentBias = weights.bias?.sliced(axis: 0, width..<(2 * width))
    var (h, c) = (initialH, initialC)
    var ys = [Variable?](repeating: nil, count: steps)
    for t in reverse ? Array((0..<steps).reversed()) : Array(0..<steps) {
      let xt = xw.sliced(axis: 0, (t * batch)..<((t + 1) * batch))
      let (newH, newC) = step(xt, h: h, c: c, weights, recurrentBias: recurrentBias)
      guard let lengths else {
        (h, c, ys[t]) = (newH, newC, newH)
        continue
      }
      // 1 for the samples still inside their sequence at step t, 0 for the others.
      let mask = Variable(Tensor(shape: [batch, 1], scalars: lengths.map { t < $0 ? 1 : 0 }))
      h = h + mask * (newH - h)
      c = c + mask * (newC - c)
      ys[t] = mask * newH
    }
    let y = Variable.concatenate(ys.compactMap { $0?.reshaped([1, 1, batch, hiddenSize]) }, axis: 0)
    return (y, h, c)
  }

  /// One step of the cell from X·Wᵀ + Wb (`xt`, [batch, gates·hidden]), as the specification's
  /// equations write it; returns the new H and C (C unchanged but for LSTM).
  private func step(
    _ xt: Variable, h: Variable, c: Variable, _ weights: DirectionWeights, recurrentBias: Variable?
  ) -> (Variable, Variable) {
    let size = hiddenSize
    let gate = { (v: Variable, k: Int) in v.sliced(axis: 1, (k * size)..<((k + 1) * size)) }
    let bounded = { (v: Variable) -> Variable in
      guard let clip = self.clip else { return v }
      return v.elementwise({ Swift.min(Swift.max($0, -clip), clip) }, derivative: { u, _ in abs(u) <= clip ? 1 : 0 })
    }
    let f = weights.activations[0]
    switch kind {
    case .rnn:
      let pre = xt + h.linear(weight: weights.r, bias: recurrentBias)
      return (f(bounded(pre)), c)
    case .gru:
      let (g, rh) = (weights.activations[1], weights.r.sliced(axis: 0, (2 * size)..<(3 * size)))
      let zr = h.linear(
        weight: weights.r.sliced(axis: 0, 0..<(2 * size)), bias: recurrentBias?.sliced(axis: 0, 0..<(2 * size)))
      let z = f(bounded(gate(xt, 0) + gate(zr, 0)))
      let reset = f(bounded(gate(xt, 1) + gate(zr, 1)))
      let hiddenBias = recurrentBias?.sliced(axis: 0, (2 * size)..<(3 * size))
      let candidate: Variable
      if linearBeforeReset {
        candidate = reset * h.linear(weight: rh, bias: hiddenBias)
      } else {
        candidate = (reset * h).linear(weight: rh, bias: hiddenBias)
      }
      let hidden = g(bounded(gate(xt, 2) + candidate))
      // (1 − z)·h̃ + z·H, as h̃ + z·(H − h̃).
      return (hidden + z * (h - hidden), c)
    case .lstm:
      let (g, hAct) = (weights.activations[1], weights.activations[2])
      let pre = xt + h.linear(weight: weights.r, bias: recurrentBias)
      let peep = { (k: Int, state: Variable, v: Variable) -> Variable in
        guard let p = weights.peephole else { return v }
        return v + p.sliced(axis: 0, (k * size)..<((k + 1) * size)) * state
      }
      // Gate order i, o, f, c in W, R and B; i, o, f in P.
      let input = f(bounded(peep(0, c, gate(pre, 0))))
      let forget = inputForget ? (-input + 1) : f(bounded(peep(2, c, gate(pre, 2))))
      let cell = forget * c + input * g(bounded(gate(pre, 3)))
      let output = f(bounded(peep(1, cell, gate(pre, 1))))
      return (output * hAct(cell), cell)
    }
  }
}
