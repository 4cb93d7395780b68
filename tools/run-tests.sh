#!/usr/bin/env bash
# The README's test command: set up, configure, build and run every test (Release build, with
# descent::distributed and its MPI tests).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh mpi onnx
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DDESCENT_MPI=ON -DDESCENT_REQUIRE_ONNX_RUNTIME=ON
cmake --build build/release -j"$(nproc)"
ctest --test-dir build/release --output-on-failure -j"$(nproc)"
