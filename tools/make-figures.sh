#!/usr/bin/env bash
# Regenerates the README's gallery: builds the examples and runs each with its defaults in
# docs/figures/, where their PNGs land (and, not committed, the gnuplot scripts that drew them).
#   tools/make-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh mpi
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DDESCENT_MPI=ON
examples=(train_digits optimizer_race descent_paths learning_rates schedules warmup newton
          sgd_vs_gd optimizer_fields)
cmake --build build/release -j"$(nproc)" --target "${examples[@]}"
mkdir -p docs/figures
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd docs/figures
for e in "${examples[@]}"; do
    echo "== $e"
    case "$e" in
        train_digits) ../../build/release/examples/train_digits --curve "$scratch/digits_loss.csv" \
                          --plot train_digits.png --checkpoint "$scratch/digits_mlp.safetensors" ;;
        optimizer_fields) ../../build/release/examples/optimizer_fields --out "$scratch"
                          cp "$scratch"/optimizer_fields_*.png . ;;
        *) "../../build/release/examples/$e" ;;
    esac
done
