#!/usr/bin/env bash
# The README's main-job command: set up, build and run the flagship example.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_TESTS=OFF
cmake --build build/release -j"$(nproc)" --target line_fit
build/release/examples/line_fit "$@"
