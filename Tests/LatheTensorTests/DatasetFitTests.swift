import LatheTensor
import XCTest

/// `Dataset.fitted` is the one check eval, run, train and the workbench make before a model
/// meets a dataset: these mismatches trapped in `Tensor.reshaped` and `Tensor.argmaxRows`
/// before it existed (issue 11).
final class DatasetFitTests: XCTestCase {
  private func dataset(shape: [Int], labels: [Int]) -> Dataset {
    var g = SeededGenerator(seed: 1)
    let inputs = Tensor<Float>.uniform([labels.count] + shape, low: 0, high: 1, generator: &g)
    return Dataset(name: "toy", inputs: inputs, labels: labels, classCount: 10)
  }

  func testFlatRowsTakeTheModelsInputShape() throws {
    let model = Architecture.digitsCNN.build()
    let fitted = try dataset(shape: [64], labels: [0, 9, 3]).fitted(to: model, modelName: "digits-cnn")
    XCTAssertEqual(fitted.inputs.shape, [3, 1, 8, 8])
    XCTAssertEqual(fitted.labels, [0, 9, 3])
  }

  func testWrongExampleSizeNamesBothShapes() {
    let model = Architecture.digitsMLP.build()
    XCTAssertThrowsError(try dataset(shape: [1, 28, 28], labels: [1]).fitted(to: model, modelName: "digits-mlp")) {
      XCTAssertEqual("\($0)", "digits-mlp reads examples of shape [1, 8, 8], but toy has [1, 28, 28]")
    }
  }

  func testOutputThatIsNotClassScoresIsRefused() throws {
    var g = SeededGenerator(seed: 2)
    let model = try Model(
      architecture: "conv-only", inputShape: [1, 8, 8], classCount: 10,
      sequence: [("conv", Conv2d(inChannels: 1, outChannels: 4, kernel: 3, padding: 1, generator: &g))])
    XCTAssertThrowsError(try dataset(shape: [1, 8, 8], labels: [1]).fitted(to: model, modelName: "conv-only")) {
      XCTAssertTrue("\($0)".hasPrefix("conv-only outputs shape [1, 4, 8, 8] per batch of one"), "\($0)")
    }
  }

  func testLabelOutsideTheModelsClassesIsRefused() {
    let model = Architecture.digitsMLP.build(classCount: 3)
    XCTAssertThrowsError(try dataset(shape: [64], labels: [0, 7]).fitted(to: model, modelName: "digits-mlp")) {
      XCTAssertEqual("\($0)", "toy has label 7, but digits-mlp scores 3 classes (0...2)")
    }
  }

  func testLabelFreeSetsAreRefusedWhereLabelsAreNeeded() throws {
    let model = Architecture.digitsMLP.build()
    let inputs = Tensor<Float>(shape: [2, 64]) { for i in 0..<$0.count { $0[i] = 0 } }
    let unlabelled = Dataset(name: "toy.npy", inputs: inputs, labels: nil, classCount: 0)
    XCTAssertFalse(unlabelled.isLabelled)
    XCTAssertEqual(unlabelled.count, 2)
    XCTAssertThrowsError(try unlabelled.fitted(to: model, modelName: "digits-mlp")) {
      XCTAssertTrue("\($0)".hasPrefix("toy.npy has no labels"), "\($0)")
      XCTAssertTrue("\($0)".contains("digits-mlp"), "\($0)")
    }
    // Label-free metrics opt out, and get the inputs in the model's shape.
    XCTAssertEqual(try unlabelled.fitted(to: model, modelName: "m", classifier: false).inputs.shape, [2, 1, 8, 8])
    // An empty label-free split (the train part of an .npy) is no error: nothing needs a label.
    XCTAssertNoThrow(try unlabelled.subset([]).fitted(to: model, modelName: "m"))
  }
}
