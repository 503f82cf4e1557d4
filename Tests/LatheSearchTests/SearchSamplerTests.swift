import LatheSearch
import XCTest

/// Samplers on functions with known optima: reproducible with a seed, and the model-based ones
/// better than random on average.
final class SearchSamplerTests: XCTestCase {
  private func meanBest(_ sampler: any Sampler, _ f: TestFunction, trials: Int, seeds: Range<UInt64>) -> Double {
    let finals = seeds.map {
      SamplerBenchmark.bestSoFar(SamplerBenchmark.run(sampler, on: f, trials: trials, seed: $0)).last!
    }
    return finals.reduce(0, +) / Double(finals.count)
  }

  func testEverySamplerIsReproducibleWithASeed() {
    for name in Samplers.names {
      let sampler = Samplers.named(name)!
      let a = SamplerBenchmark.run(sampler, on: .branin, trials: 25, seed: 7)
      let b = SamplerBenchmark.run(sampler, on: .branin, trials: 25, seed: 7)
      let c = SamplerBenchmark.run(sampler, on: .branin, trials: 25, seed: 8)
      XCTAssertEqual(a, b, name)
      if name != "grid" { XCTAssertNotEqual(a, c, name) }
    }
  }

  func testTPEAndGPBeatRandomOnBranin() {
    let seeds: Range<UInt64> = 0..<4
    let random = meanBest(RandomSampler(), .branin, trials: 40, seeds: seeds)
    let tpe = meanBest(TPESampler(), .branin, trials: 40, seeds: seeds)
    let gp = meanBest(GaussianProcessSampler(), .branin, trials: 40, seeds: seeds)
    print("branin after 40: random \(random) tpe \(tpe) gp \(gp)")
    XCTAssertLessThan(tpe, random)
    XCTAssertLessThan(gp, random)
    XCTAssertLessThan(gp, TestFunction.branin.minimum * 1.05)
  }

  func testTPEAndGPBeatRandomOnHartmann6() {
    let seeds: Range<UInt64> = 0..<3
    let random = meanBest(RandomSampler(), .hartmann6, trials: 50, seeds: seeds)
    let tpe = meanBest(TPESampler(), .hartmann6, trials: 50, seeds: seeds)
    let gp = meanBest(GaussianProcessSampler(), .hartmann6, trials: 50, seeds: seeds)
    print("hartmann6 after 50: random \(random) tpe \(tpe) gp \(gp)")
    XCTAssertLessThan(tpe, random)
    XCTAssertLessThan(gp, random)
  }

  func testParticleSwarmBeatsRandomOnBranin() {
    let seeds: Range<UInt64> = 0..<4
    let random = meanBest(RandomSampler(), .branin, trials: 60, seeds: seeds)
    let pso = meanBest(ParticleSwarmSampler(), .branin, trials: 60, seeds: seeds)
    print("branin after 60: random \(random) pso \(pso)")
    XCTAssertLessThan(pso, random)
  }

  func testNSGA2FrontHasMoreHypervolumeThanRandomOnZDT1() {
    let f = TestFunction.zdt1(dimensions: 6)
    var nsga = 0.0
    var random = 0.0
    for seed: UInt64 in 0..<3 {
      let reference = [1.1, 11.0]
      nsga += Pareto.hypervolume(
        SamplerBenchmark.run(NSGA2Sampler(), on: f, trials: 160, seed: seed), reference: reference)
      random += Pareto.hypervolume(
        SamplerBenchmark.run(RandomSampler(), on: f, trials: 160, seed: seed), reference: reference)
    }
    print("zdt1 hypervolume after 160: nsga2 \(nsga / 3) random \(random / 3)")
    XCTAssertGreaterThan(nsga, random)
  }

  func testGridCoversEveryLevel() {
    let dims: [UnitDimension] = [.continuous, .categorical(3)]
    let points = (0..<12).map {
      GridSampler().suggest(SamplerContext(dimensions: dims, trial: $0, totalTrials: 12, history: [], seed: 1))
    }
    XCTAssertEqual(Set(points.map { $0[1] }).count, 3)
    XCTAssertEqual(Set(points.map { $0[0] }), [0, 1.0 / 3, 2.0 / 3, 1])
    XCTAssertEqual(Set(points.map { "\($0)" }).count, 12)
  }

  func testHypervolumeOfKnownPoints() {
    XCTAssertEqual(Pareto.hypervolume([[0, 0]], reference: [1, 1]), 1, accuracy: 1e-12)
    XCTAssertEqual(Pareto.hypervolume([[0.5, 0], [0, 0.5]], reference: [1, 1]), 0.75, accuracy: 1e-12)
    XCTAssertEqual(Pareto.hypervolume([[0.5, 0.5, 0.5]], reference: [1, 1, 1]), 0.125, accuracy: 1e-12)
  }

  func testNonDominatedSortAndConstraints() {
    let losses: [[Double]] = [[1, 1], [0, 2], [2, 2], [0.5, 0.5]]
    XCTAssertEqual(Pareto.fronts(losses).map { Set($0) }, [[1, 3], [0], [2]])
    // The dominating point misses a constraint: it falls behind every feasible one.
    XCTAssertEqual(Pareto.fronts(losses, violations: [0, 0, 0, 0.2]).map { Set($0) }, [[0, 1], [2], [3]])
  }
}
