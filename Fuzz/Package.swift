// swift-tools-version:5.4
import PackageDescription

// libFuzzer harnesses for Lathe's file readers. A separate package, so the main package and CI
// never need the fuzzer runtime. Build (see docs/fuzzing.md and scripts/fuzz):
//
//   swift build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
//
// Each target defines LLVMFuzzerTestOneInput and no main: libFuzzer's runtime brings main.
//
// Tools version 5.4 on purpose. From 5.5 on, SwiftPM compiles an executable target's entry point
// as `<target>_main` (so tests can link executables) and links with `--defsym main=<target>_main`;
// with -parse-as-library there is no entry point, and the link fails with "undefined symbol
// 'fuzz_csv_main' referenced in expression". A 5.4 manifest gets neither, and libFuzzer's main
// is linked instead.

let readers = [
  "safetensors", "onnx", "idx", "csv", "gzip", "pipeline", "journal", "theme", "tutorial", "npy", "image", "gguf",
  "studydb", "hfjson", "textcorpus", "statefiles",
]

let package = Package(
  name: "LatheFuzz",
  dependencies: [.package(name: "Lathe", path: "..")],
  targets: [
    .target(name: "FuzzSupport", dependencies: [.product(name: "LatheIO", package: "Lathe")])
  ]
    + readers.map { reader in
      .executableTarget(
        name: "fuzz-\(reader)",
        dependencies: [
          "FuzzSupport",
          .product(name: "LatheIO", package: "Lathe"),
          .product(name: "LatheTensor", package: "Lathe"),
          .product(name: "LatheCompress", package: "Lathe"),
          .product(name: "LatheONNX", package: "Lathe"),
          .product(name: "LatheSearch", package: "Lathe"),
          .product(name: "LatheStudyStore", package: "Lathe"),
          .product(name: "LatheWorkspace", package: "Lathe"),
          .product(name: "LatheTUI", package: "Lathe"),
        ],
        path: "Sources/fuzz-\(reader)"
      )
    }
)
