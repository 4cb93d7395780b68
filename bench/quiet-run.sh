#!/usr/bin/env bash
# Runs a benchmark command and reports how much CPU other processes used meanwhile, so that
# disturbed runs can be repeated: busy jiffies of the whole machine (/proc/stat) minus the
# command's own user+system time, as a share of one core over the run's wall time.
#   bench/quiet-run.sh build-bench/bench/bench_mlp --benchmark_min_time=0.2
# OpenBLAS's core-type overrides are unset for the command only (benchmarks, never tests).
set -euo pipefail
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)
before=$(busy)
start=$(date +%s.%N)
times=$(mktemp)
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/time -f "%U %S" -o "$times" "$@"
end=$(date +%s.%N)
after=$(busy)
read -r user sys < "$times"
rm -f "$times"
awk -v b="$before" -v a="$after" -v hz="$hz" -v u="$user" -v s="$sys" -v t0="$start" -v t1="$end" \
  'BEGIN { other = (a - b) / hz - u - s; if (other < 0) other = 0;
           printf "quiet-run: other processes used %.1f%% of one core during %.1f s\n",
                  100 * other / (t1 - t0), t1 - t0 }' >&2
