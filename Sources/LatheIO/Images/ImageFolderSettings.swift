import Foundation

/// How an ImageFolder's images become tensors, from the folder's `dataset.json`:
///
///     {"resize": 256, "crop": 224, "channels": "rgb",
///      "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
///
/// Each image is resized so its shorter side is `resize` pixels (0 keeps the size), centre-
/// cropped to `crop` (a size, or `[height, width]`), scaled to [0, 1], then each channel
/// becomes `(value - mean) / std`. The defaults are torchvision's ImageNet evaluation
/// transform, above. Giving only `crop` resizes to the crop's shorter side; giving only
/// `resize` crops a square of that size. `"channels": "grayscale"` gives one channel (with
/// mean 0.5 and std 0.5 unless given).
public struct ImageFolderSettings: Sendable, Equatable {
  public var resize: Int
  public var cropHeight: Int
  public var cropWidth: Int
  public var grayscale: Bool
  public var mean: [Float]
  public var std: [Float]

  public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
  public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

  public init(
    resize: Int = 256, cropHeight: Int = 224, cropWidth: Int = 224, grayscale: Bool = false,
    mean: [Float] = imageNetMean, std: [Float] = imageNetStd
  ) {
    (self.resize, self.cropHeight, self.cropWidth) = (resize, cropHeight, cropWidth)
    (self.grayscale, self.mean, self.std) = (grayscale, mean, std)
  }

  public var channels: Int { grayscale ? 1 : 3 }

  /// The settings in `directory`'s `dataset.json`, defaults for what it does not say.
  static func read(in directory: URL) throws -> ImageFolderSettings {
    var settings = ImageFolderSettings()
    guard let (url, fields) = try DatasetMetadata.fields(in: directory) else { return settings }
    func invalid(_ key: String, _ expected: String) -> LatheIOError {
      .invalid(file: url.path, field: "field \"\(key)\"", expected: expected, got: JSONText.describe(fields[key]!))
    }
    func size(_ value: Any, _ key: String) throws -> Int {
      guard let number = JSONText.integer(value), (1...65536).contains(number) else {
        throw invalid(key, "a size in pixels, 1 to 65536")
      }
      return number
    }
    if let channels = fields["channels"] {
      guard let text = channels as? String, ["rgb", "grayscale"].contains(text) else {
        throw invalid("channels", "\"rgb\" or \"grayscale\"")
      }
      settings.grayscale = text == "grayscale"
      if settings.grayscale { (settings.mean, settings.std) = ([0.5], [0.5]) }
    }
    let resize = try fields["resize"].map { value -> Int in
      if JSONText.integer(value) == 0 { return 0 }
      return try size(value, "resize")
    }
    var crop: (Int, Int)?
    if let value = fields["crop"] {
      if let pair = value as? [Any], pair.count == 2 {
        crop = (try size(pair[0], "crop"), try size(pair[1], "crop"))
      } else if JSONText.integer(value) != nil {
        let side = try size(value, "crop")
        crop = (side, side)
      } else {
        throw invalid("crop", "a size in pixels or [height, width]")
      }
    }
    switch (resize, crop) {
    case (let r?, let c?): (settings.resize, settings.cropHeight, settings.cropWidth) = (r, c.0, c.1)
    case (let r?, nil): (settings.resize, settings.cropHeight, settings.cropWidth) = (r, r, r)
    case (nil, let c?): (settings.resize, settings.cropHeight, settings.cropWidth) = (min(c.0, c.1), c.0, c.1)
    case (nil, nil): break
    }
    guard settings.resize > 0 || fields["crop"] != nil else {
      throw invalid("resize", "a crop size too when resize is 0 (images of different sizes cannot be stacked)")
    }
    for key in ["mean", "std"] {
      guard let value = fields[key] else { continue }
      let numbers = (value as? [Any])?.compactMap(JSONText.number) ?? []
      let positive = key == "std"
      guard numbers.count == settings.channels, (value as? [Any])?.count == numbers.count,
        numbers.allSatisfy({ $0.isFinite && (!positive || $0 > 0) })
      else {
        throw invalid(key, "\(settings.channels) \(positive ? "positive " : "")numbers, one per channel")
      }
      if positive { settings.std = numbers.map(Float.init) } else { settings.mean = numbers.map(Float.init) }
    }
    return settings
  }
}
