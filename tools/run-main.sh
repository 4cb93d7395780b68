#!/usr/bin/env bash
# The README's main-job command: set up, build and run the flagship training example
# (an MLP on the bundled UCI digits). Extra arguments go to the program (--optimizer,
# --schedule, --epochs, --seed, --resume, ...; --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh mpi
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DDESCENT_MPI=ON
cmake --build build/release -j"$(nproc)" --target train_digits
# its outputs go under build/ by default (--curve, --plot, --checkpoint choose others)
build/release/examples/train_digits "$@"
