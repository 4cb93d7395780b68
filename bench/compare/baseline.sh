#!/bin/sh
# Builds bench/compare/compare_descent.cpp against the libraries of an older commit, so that
# figures an issue quoted from another machine can be set beside today's: both builds measured
# on one host (calibrate.py) give that host's factor. Tested with 6e2ac07 (issue 10's figures).
#
#     bench/compare/baseline.sh 6e2ac07 /tmp/compare_descent_6e2ac07
set -eu
commit=$1
out=$(realpath -m "$2")
src=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
git -C "$src" worktree add --detach "$work/tree" "$commit" > /dev/null
trap 'git -C "$src" worktree remove --force "$work/tree"; rm -rf "$work"' EXIT
cmake -S "$work/tree" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_TESTS=OFF \
  -DDESCENT_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$work/build" -j2 --target descent_autograd descent_nn descent_optim > /dev/null
# Older libraries lack get_num_threads(), which only the (descent-only) triad uses.
sed 's/dc::get_num_threads()/1/' "$src/bench/compare/compare_descent.cpp" > "$work/compare_descent.cpp"
cp "$src/bench/compare/workloads.hpp" "$work/"
blas=$(pkg-config --libs openblas 2> /dev/null || true)
c++ -std=c++20 -O3 -DNDEBUG -march=native -fopenmp -isystem /usr/include/eigen3 \
  -I"$work/tree/autograd/include" -I"$work/tree/nn/include" -I"$work/tree/optim/include" \
  "$work/compare_descent.cpp" -o "$out" "$work/build/optim/libdescent_optim.a" \
  "$work/build/nn/libdescent_nn.a" "$work/build/autograd/libdescent_autograd.a" \
  -lbenchmark -lfmt -lpthread $blas
echo "$out: compare_descent against $(git -C "$src" rev-parse --short "$commit")"
