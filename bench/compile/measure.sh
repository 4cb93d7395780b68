#!/bin/sh
# Times the compilation of a user's translation unit — user_tu.cpp: the three umbrella headers
# and a small MLP trained — against this tree's headers, against an older commit's, with
# descent's headers precompiled (descent_precompile_headers), and the same program in libtorch
# (user_tu_torch.cpp, Debian's libtorch-dev), alternating, `runs` rounds; prints every time and
# each one's minimum. g++ -std=c++20 -O2 -march=native -fopenmp -c, as a Release consumer.
#
#     bench/compile/measure.sh [old-commit [runs]]      # e.g. bench/compile/measure.sh 95eeeec 3
set -eu
old=${1:-}
runs=${2:-3}
src=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags="-std=c++20 -O2 -march=native -fopenmp"
new_inc="-I$src/autograd/include -I$src/nn/include -I$src/optim/include -I$src/data/include"
if [ -n "$old" ]; then
    git -C "$src" archive "$old" autograd/include nn/include optim/include | tar -x -C "$work"
    old_inc="-I$work/autograd/include -I$work/nn/include -I$work/optim/include -isystem /usr/include/eigen3"
fi
torch_inc="-isystem /usr/include/torch/csrc/api/include"
printf '#include <descent/autograd.hpp>\n#include <descent/nn.hpp>\n#include <descent/optim.hpp>\n' \
    > "$work/pch.hpp"
g++ $flags $new_inc -x c++-header "$work/pch.hpp" -o "$work/pch.hpp.gch"

seconds() {  # the wall time of one compilation
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
for round in $(seq "$runs"); do
    echo "new $(seconds g++ $flags $new_inc -c "$src/bench/compile/user_tu.cpp" -o "$work/a.o")"
    echo "new+pch $(seconds g++ $flags $new_inc -include "$work/pch.hpp" -c "$src/bench/compile/user_tu.cpp" -o "$work/b.o")"
    if [ -n "$old" ]; then
        echo "old $(seconds g++ $flags $old_inc -c "$src/bench/compile/user_tu.cpp" -o "$work/c.o")"
    fi
    if [ -d /usr/include/torch ]; then
        echo "torch $(seconds g++ $flags $torch_inc -c "$src/bench/compile/user_tu_torch.cpp" -o "$work/d.o")"
    fi
done | tee "$work/times"
echo "minimum of $runs (s):"
for kind in new new+pch old torch; do
    grep "^$kind " "$work/times" | sort -k2 -n | head -1
done
