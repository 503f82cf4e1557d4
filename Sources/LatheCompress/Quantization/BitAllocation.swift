import Foundation
import LatheTensor

/// Mixed precision to a bits-per-weight budget, as `llama-quantize --target-bpw` and ModelOpt's
/// AutoQuantize do it: every layer gets the width (among those offered) that spends the budget
/// where it buys the most fidelity.
///
/// Each layer's cost at each width is the KL divergence of the model's output when that layer
/// alone is at that width (the per-layer sensitivity of `QuantizationSensitivity`), taken as
/// additive across layers. Then the multiple-choice knapsack is solved greedily: every layer
/// starts at the narrowest width, and the upgrade with the largest drop in cost per extra bit
/// is taken while the budget allows.
public enum BitAllocation {
  /// The widths `weight-only`'s `target_bits` chooses among, besides fp32.
  public static let widths = [3, 4, 5, 6, 8]

  /// One layer's options: its weight count and the cost of each width.
  public struct Layer: Sendable, Equatable {
    public var name: String
    public var parameters: Int
    /// Width → cost (KL divergence with this layer alone at that width).
    public var cost: [Int: Double]
  }

  /// Stored bits per weight of a width, scales included (one fp32 scale per `groupSize`
  /// weights; fp32 itself has none).
  public static func storedBits(_ width: Int, groupSize: Int) -> Double {
    width >= 32 ? 32 : Double(width) + 32 / Double(groupSize)
  }

  /// The width per layer whose weighted mean stored bits stay within `budget` and whose summed
  /// cost the greedy rule makes smallest. Every layer gets at least its narrowest width, even
  /// when that alone exceeds the budget.
  public static func allocate(_ layers: [Layer], budget: Double, groupSize: Int) -> [String: Int] {
    let total = Double(layers.map(\.parameters).reduce(0, +))
    var chosen = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.cost.keys.min() ?? 32) })
    func bits(_ layer: Layer, _ width: Int) -> Double {
      Double(layer.parameters) * storedBits(width, groupSize: groupSize)
    }
    var used = layers.reduce(0.0) { $0 + bits($1, chosen[$1.name]!) }
    while true {
      var best: (layer: Layer, width: Int, gain: Double)?
      for layer in layers {
        let current = chosen[layer.name]!
        for width in layer.cost.keys.sorted() where width > current {
          let cost = layer.cost[width]!
          let extra = bits(layer, width) - bits(layer, current)
          guard (used + extra) / total <= budget + 1e-9 else { continue }
          let gain = (layer.cost[current]! - cost) / extra
          // Ties go to the earlier layer, then the narrower upgrade, so results are stable.
          if gain > 0, best == nil || gain > best!.gain { best = (layer, width, gain) }
        }
      }
      guard let step = best else { break }
      used += bits(step.layer, step.width) - bits(step.layer, chosen[step.layer.name]!)
      chosen[step.layer.name] = step.width
    }
    return chosen
  }
}

/// What a mixed-precision allocation chose: each layer's width and the mean stored bits per
/// weight (scales included) over the layers it covered.
public struct BitAllocationFindings: Sendable, Equatable {
  public var widths: [String: Int]
  public var meanBits: Double
}
