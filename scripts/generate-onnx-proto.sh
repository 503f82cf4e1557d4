#!/usr/bin/env bash
# Regenerates Sources/LatheONNX/Proto/onnx.pb.swift from onnx.proto. Only needed after editing
# the .proto: the generated file is committed, so building Lathe never needs protoc.
#
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift, built from the swift-protobuf
# release the package pins, in a scratch folder outside the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${PROTOC_GEN_SWIFT_SCRATCH:-${TMPDIR:-/tmp}/lathe-protoc-gen-swift}"
version="1.39.0"

if ! command -v protoc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq protobuf-compiler
  else
    echo "generate-onnx-proto: install protoc (Debian package protobuf-compiler)" >&2
    exit 1
  fi
fi

plugin="${PROTOC_GEN_SWIFT:-}"
if [ -z "$plugin" ]; then
  if [ ! -d "$scratch/swift-protobuf" ]; then
    mkdir -p "$scratch"
    git clone -q --branch "$version" https://github.com/apple/swift-protobuf "$scratch/swift-protobuf"
  fi
  (cd "$scratch/swift-protobuf" && swift build -c release --product protoc-gen-swift >&2)
  plugin="$scratch/swift-protobuf/.build/release/protoc-gen-swift"
fi

cd "$root/Sources/LatheONNX/Proto"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out=. onnx.proto
echo "generate-onnx-proto: wrote Sources/LatheONNX/Proto/onnx.pb.swift"
