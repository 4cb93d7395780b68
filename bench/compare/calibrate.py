#!/usr/bin/env python3
"""Two builds of compare_descent on one host, alternating process by process at one thread:
the medians of each workload and their ratio. With a build of the commit an issue measured on
another machine (baseline.sh), the ratio says how far today's code has moved on this host, and
the baseline's time here against the issue's figure gives the host's factor.

    bench/compare/baseline.sh 6e2ac07 /tmp/compare_descent_6e2ac07
    bench/compare/calibrate.py --baseline /tmp/compare_descent_6e2ac07 \
        --current build-bench/bench/compare_descent [--rounds 9]

Each run is measured as compare.py measures it (repeated when other processes used more than
--max-other of a core meanwhile).
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import base_env, measure  # noqa: E402

WORKLOADS = ["step/tiny_2_16_1_b8_mse", "add_backward/1", "chain/100"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--max-other", type=float, default=0.1)
    args = parser.parse_args()
    env = dict(base_env(), OMP_NUM_THREADS="1")
    times = {w: {"baseline": [], "current": []} for w in WORKLOADS}
    log = []
    for _ in range(args.rounds):
        for w in WORKLOADS:
            for which in ("baseline", "current"):
                program = getattr(args, which)
                times[w][which].append(measure(program, w, env, args.min_time, args.max_other, log))
    print("| workload (1 thread, µs) | baseline | current | baseline / current |")
    print("|---|---:|---:|---:|")
    for w in WORKLOADS:
        b = statistics.median(times[w]["baseline"])
        c = statistics.median(times[w]["current"])
        print(f"| {w} | {b:.3g} | {c:.3g} | {b / c:.2f}× |")
    for line in log:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
