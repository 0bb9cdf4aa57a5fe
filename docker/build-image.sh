#!/usr/bin/env bash
# Builds the image `expressconnect-emulator:dev` from binaries built on this machine: no registry needed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p initiator-svc -p acceptor-svc -p peeringctl
stage=target/docker-context
rm -rf "$stage"
mkdir -p "$stage/rootfs/usr/local/bin" "$stage/data"
for bin in initiator-svc acceptor-svc peeringctl; do
  cp "target/release/$bin" "$stage/rootfs/usr/local/bin/"
  # The release profile keeps line tables for backtraces on this machine; the image does without them.
  strip "$stage/rootfs/usr/local/bin/$bin"
  # The dynamic loader and every library the binary links, at their own paths.
  for lib in $(ldd "target/release/$bin" | grep -o '/[^ ]*'); do
    cp --parents -L "$lib" "$stage/rootfs/"
  done
done
docker build -t expressconnect-emulator:dev -f docker/Dockerfile "$stage"
