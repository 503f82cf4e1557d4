// swift-tools-version:6.0
import PackageDescription

// Lathe: a terminal workbench for making neural networks smaller and faster.
// Dependencies point down: lathe -> LatheBenchmarks, LatheTUI -> LatheWorkspace -> LatheONNX -> LatheCompress -> LatheIO
// -> LatheTensor -> CKernels; LatheSearch (samplers, studies, journals) needs Foundation only,
// LatheStudyStore keeps its studies in Optuna's schema (SQLite, PostgreSQL), and LatheWorkspace
// joins them to pipelines. docs/architecture.md draws it.

/// C kernels are always built optimised: a debug `swift test` still runs real training loops.
/// No `-march`: kernels choose their instruction set at run time.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno"])]

let package = Package(
  name: "Lathe",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "lathe", targets: ["lathe"]),
    .library(name: "LatheTensor", targets: ["LatheTensor"]),
    .library(name: "LatheIO", targets: ["LatheIO"]),
    .library(name: "LatheCompress", targets: ["LatheCompress"]),
    .library(name: "LatheONNX", targets: ["LatheONNX"]),
    .library(name: "LatheSearch", targets: ["LatheSearch"]),
    .library(name: "LatheStudyStore", targets: ["LatheStudyStore"]),
    .library(name: "LatheWorkspace", targets: ["LatheWorkspace"]),
    // A library too so that Fuzz/ can reach the theme and tutorial readers.
    .library(name: "LatheTUI", targets: ["LatheTUI"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    // Studies in Optuna's schema: SQLite embedded, PostgreSQL for many machines.
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
  ],
  targets: [
    .target(
      name: "CKernels",
      cSettings: kernelFlags,
      linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread"), .linkedLibrary("m")]
    ),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    // ImageFolder datasets: Debian's libpng and libjpeg(-turbo), behind a C shim that keeps
    // libjpeg's longjmp error handling out of Swift.
    .systemLibrary(
      name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
      providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
    .systemLibrary(
      name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
      providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]),
    .target(
      name: "CImageCodecs", dependencies: ["CLibPNG", "CLibJPEG"],
      linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
    .target(name: "LatheTensor", dependencies: ["CKernels"]),
    .target(name: "LatheIO", dependencies: ["LatheTensor", "CZlib", "CImageCodecs"]),
    .target(name: "LatheCompress", dependencies: ["LatheTensor", "LatheIO", "CKernels", "Yams"]),
    .target(
      name: "LatheONNX",
      dependencies: [
        "LatheTensor", "LatheIO", "LatheCompress", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["Proto/onnx.proto"]
    ),
    .target(name: "LatheSearch"),
    // Study storage in Optuna's RDB schema (SQLite through GRDB, PostgreSQL through PostgresNIO).
    .target(
      name: "LatheStudyStore",
      dependencies: [
        "LatheSearch", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ]),
    .target(
      name: "LatheWorkspace",
      dependencies: ["LatheTensor", "LatheIO", "LatheCompress", "LatheONNX", "LatheSearch", "LatheStudyStore"]),
    .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
    .target(
      name: "LatheTUI",
      dependencies: [
        "LatheWorkspace", "LatheSearch", "LatheCompress", "LatheONNX", "LatheIO", "LatheTensor", "CNcursesw", "Yams",
      ]
    ),
    .target(name: "LatheBenchmarks", dependencies: ["CKernels", "LatheTensor", "LatheCompress", "LatheTUI"]),
    .executableTarget(
      name: "lathe",
      dependencies: [
        "LatheTensor", "LatheIO", "LatheCompress", "LatheTUI", "LatheONNX", "LatheSearch", "LatheStudyStore",
        "LatheWorkspace", "LatheBenchmarks",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(name: "CKernelsTests", dependencies: ["CKernels", "LatheTensor", "LatheTestSupport"]),
    .testTarget(name: "LatheTensorTests", dependencies: ["LatheTensor", "LatheTestSupport"]),
    // Fixtures: small files made by numpy itself, so the readers are checked against the real writer.
    .testTarget(name: "LatheIOTests", dependencies: ["LatheIO", "LatheTestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "LatheCompressTests", dependencies: ["LatheCompress", "CKernels", "LatheTestSupport"]),
    // Helpers several test targets share (seeded text mutators, convolution geometries); never linked into the product.
    .target(name: "LatheTestSupport", dependencies: ["CKernels"], path: "Tests/LatheTestSupport"),
    .testTarget(name: "LatheSearchTests", dependencies: ["LatheSearch", "LatheTestSupport"]),
    // Fixtures: study databases Optuna itself wrote, so the reader is checked against the real writer.
    .testTarget(
      name: "LatheStudyStoreTests", dependencies: ["LatheStudyStore", "LatheSearch", "LatheTestSupport"],
      exclude: ["Fixtures"]),
    .testTarget(
      name: "LatheWorkspaceTests",
      dependencies: ["LatheWorkspace", "LatheSearch", "LatheStudyStore", "LatheCompress", "LatheTestSupport"]),
    .testTarget(
      name: "LatheTUITests",
      dependencies: ["LatheTUI", "LatheWorkspace", "LatheSearch", "LatheStudyStore", "LatheTestSupport"],
      exclude: ["Golden"]),
    .testTarget(name: "LatheBenchmarksTests", dependencies: ["LatheBenchmarks", "LatheTUI"]),
    .testTarget(
      name: "LatheONNXTests",
      dependencies: [
        "LatheONNX", "LatheCompress", "LatheWorkspace", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .testTarget(name: "LatheCLITests", dependencies: ["LatheIO", "LatheStudyStore", "LatheTestSupport"]),
  ]
)
