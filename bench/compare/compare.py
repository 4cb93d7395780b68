#!/usr/bin/env python3
"""descent vs libtorch, side by side: runs bench/compare's two programs workload by workload,
descent and torch alternating process by process, at 1 and 2 threads, and writes the table of
medians and ratios (torch / descent) into bench/README.md between its compare markers.

    cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DDESCENT_BUILD_BENCH=ON
    cmake --build build-bench -j2 --target compare_descent compare_torch bench_mlp
    bench/compare/compare.py --build build-bench [--rounds 3] [--write-readme]

Protocol (bench/README.md): OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for both
programs (they hold OpenBLAS to AVX2 on these machines); torch gets glibc's malloc tunables
and, at 2 threads, the better of intra-op 2 threads or intra-op 1 + OpenBLAS 2; descent runs
as a user runs it (OMP_NUM_THREADS only). Every process run measures the CPU that other
processes used meanwhile (/proc/stat minus the run's own time) and is repeated, up to three
times, when that exceeds --max-other of one core.
"""

import argparse
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

TORCH_MALLOC = "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"
WORKLOADS = [
    ("step/tiny_2_16_1_b8_mse", "tiny 2-16-1, batch 8, MSE"),
    ("step/mlp_784_256_256_10_b1", "784-256-256-10, batch 1"),
    ("step/mlp_784_256_256_10_b32", "784-256-256-10, batch 32"),
    ("step/mlp_784_256_256_10_b256", "784-256-256-10, batch 256"),
    ("step/mlp_784_1024_1024_10_b512", "784-1024-1024-10, batch 512"),
    ("conv_step/lenet5_28_b64", "LeNet-5 28×28, batch 64"),
    ("conv_step/small_cnn_8_b32", "small CNN 8×8, batch 32"),
    ("conv_step/conv2_32_b32", "two 3×3 convs 3×32×32, batch 32"),
    ("recurrent/lstm_h256_t64_b32", "LSTM 256, 64 steps, batch 32, fwd + bwd"),
    ("recurrent/gru_h256_t64_b32", "GRU 256, 64 steps, batch 32, fwd + bwd"),
    ("block/resnet_basic_64_32_b32", "ResNet basic block 64×32×32, batch 32, fwd + bwd"),
    ("block/depthwise_separable_64_32_b32", "depthwise-separable block 64→128, 32×32, b32"),
    ("block/max_pool2_64_32_b32", "max-pool 2×2 of [32,64,32,32], fwd + bwd"),
    ("block/avg_pool2_64_32_b32", "avg-pool 2×2 of [32,64,32,32], fwd + bwd"),
    ("block/transformer_d128_h4_t128_b16", "TransformerEncoderLayer 128/4, 128 tokens, b16"),
    ("add_backward/1", "add + backward, 1 element"),
    ("chain/100", "chain of 100 ops + backward, per op"),
    ("adam/1x10M", "Adam, 1 × 10M floats"),
    ("adam/1000x10k", "Adam, 1000 × 10k floats"),
    ("sgd_momentum/1x10M", "SGD-momentum, 1 × 10M floats"),
    ("sgd_momentum/1000x10k", "SGD-momentum, 1000 × 10k floats"),
]
# Bytes each update must move per element (read θ, g and the state, write θ and the state) and
# the descent-only triad they are measured against (12 bytes per element, STREAM's count).
UPDATE_BYTES = {"adam": 28, "sgd_momentum": 20}
UPDATE_ELEMENTS = {"1x10M": 10_000_000, "1000x10k": 10_000_000}
TRIAD = "triad/1x10M"
# The hand-written Eigen MLP (no autograd, forward + backward) and descent's, from bench_mlp.
EIGEN_LIMIT = [(f"BM_MlpEigen/batch:{b}/real_time", f"BM_MlpDescent/batch:{b}/real_time")
               for b in (32, 256)]


def base_env():
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


def configurations():
    """(threads, library, variant, environment) of every process kind."""
    d1 = base_env() | {"OMP_NUM_THREADS": "1"}
    d2 = base_env() | {"OMP_NUM_THREADS": "2"}
    t = base_env() | {"GLIBC_TUNABLES": TORCH_MALLOC}
    return [
        (1, "descent", "", d1),
        (1, "torch", "intra 1", t | {"BENCH_TORCH_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                      "OMP_NUM_THREADS": "1"}),
        (2, "descent", "", d2),
        (2, "torch", "intra 2", t | {"BENCH_TORCH_THREADS": "2", "OPENBLAS_NUM_THREADS": "1",
                                      "OMP_NUM_THREADS": "2"}),
        (2, "torch", "intra 1 + OpenBLAS 2", t | {"BENCH_TORCH_THREADS": "1",
                                                  "OPENBLAS_NUM_THREADS": "2",
                                                  "OMP_NUM_THREADS": "2"}),
    ]


def busy_seconds():
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def run_once(program, name, env, min_time):
    """µs per iteration (per op for the chain), the share of a core others used, and the
    process's peak resident set in MB."""
    before_busy = busy_seconds()
    start = time.monotonic()
    with subprocess.Popen(
            [program, f"--benchmark_filter=^{re.escape(name)}(/real_time)?$",
             f"--benchmark_min_time={min_time}", "--benchmark_format=json"],
            env=env, stdout=subprocess.PIPE, text=True) as proc:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, program)
    wall = time.monotonic() - start
    own = usage.ru_utime + usage.ru_stime
    other = max(0.0, busy_seconds() - before_busy - own) / wall
    rss = usage.ru_maxrss / 1024  # kB on Linux
    bench = json.loads(out)["benchmarks"][0]
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[bench["time_unit"]]
    if "per_op" in bench:
        return bench["per_op"] * 1e6, other, rss  # seconds per op (inverted rate)
    return bench["real_time"] * scale, other, rss


def measure(program, name, env, min_time, max_other, log, peaks=None):
    for attempt in range(3):
        value, other, rss = run_once(program, name, env, min_time)
        if peaks is not None:
            peaks.append(rss)
        if other <= max_other:
            return value
        log.append(f"{name} {os.path.basename(program)}: others used {100 * other:.0f} % of a "
                   f"core, repeated (attempt {attempt + 1})")
    return value


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "SSE"
    return f"{model} ({isa}), {os.cpu_count()} vCPU"


def torch_version():
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libtorch-dev"],
                          capture_output=True, text=True).stdout or "unknown"


def gb_per_s(nbytes, microseconds):
    return nbytes / microseconds / 1e3


def fmt(v):
    return f"{v:.3g}" if v < 10 else f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--max-other", type=float, default=0.10,
                    help="share of one core other processes may use during a run")
    ap.add_argument("--write-readme", action="store_true")
    args = ap.parse_args()
    programs = {"descent": f"{args.build}/bench/compare_descent",
                "torch": f"{args.build}/bench/compare_torch"}
    log = []
    results = {}  # (workload, threads, library, variant) -> [values]
    peaks = {}  # (workload, library) -> [peak RSS in MB] at 1 thread
    for r in range(args.rounds):
        for name, _ in WORKLOADS:
            for threads, library, variant, env in configurations():
                rss = peaks.setdefault((name, library), []) if threads == 1 else None
                value = measure(programs[library], name, env, args.min_time, args.max_other, log,
                                rss)
                results.setdefault((name, threads, library, variant), []).append(value)
                print(f"round {r + 1} {name} {threads}T {library} {variant}: {value:.3f} µs",
                      file=sys.stderr)
    triad = {}
    for threads, library, _variant, env in configurations():
        if library == "descent":
            triad[threads] = statistics.median(
                measure(programs["descent"], TRIAD, env, args.min_time, args.max_other, log)
                for _ in range(args.rounds))
    limit = {}
    for eigen, desc in EIGEN_LIMIT:
        for bench in (eigen, desc):
            limit[bench] = statistics.median(
                measure(f"{args.build}/bench/bench_mlp", bench,
                        base_env() | {"OMP_NUM_THREADS": "1"}, args.min_time, args.max_other, log)
                for _ in range(args.rounds))

    med = {k: statistics.median(v) for k, v in results.items()}
    lines = ["| workload | torch 1T | descent 1T | ratio 1T | torch 2T | descent 2T | ratio 2T |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, label in WORKLOADS:
        t1, d1 = med[(name, 1, "torch", "intra 1")], med[(name, 1, "descent", "")]
        two = {v: med[(name, 2, "torch", v)] for v in ("intra 2", "intra 1 + OpenBLAS 2")}
        best = min(two, key=two.get)
        t2, d2 = two[best], med[(name, 2, "descent", "")]
        mark = "" if best == "intra 2" else "†"
        lines.append(f"| {label} | {fmt(t1)} | {fmt(d1)} | {t1 / d1:.2f}× | {fmt(t2)}{mark} | "
                     f"{fmt(d2)} | {t2 / d2:.2f}× |")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    table = "\n".join(lines)
    eigen = "; ".join(f"batch {e.split(':')[1].split('/')[0]}: Eigen {fmt(limit[e])} µs, descent {fmt(limit[d])} "
                      f"µs ({limit[d] / limit[e]:.2f}×)" for e, d in EIGEN_LIMIT)
    text = (f"Measured {datetime.date.today()} on {machine()}, descent at {commit}, torch "
            f"{torch_version()} (Debian libtorch-dev); µs per step or update (per op for the chain), medians "
            f"of {args.rounds} alternating process runs of `--benchmark_min_time={args.min_time}`; "
            f"ratio = torch / descent; † = torch's better 2-thread set-up was intra-op 1 + "
            f"OpenBLAS 2 (else intra-op 2).\n\n{table}\n\nThe no-overhead limit "
            f"(`bench_mlp`, forward + backward only, 1 thread): {eigen}.\n")
    memory = ["| workload | torch peak RSS 1T | descent peak RSS 1T | ratio |", "|---|---:|---:|---:|"]
    for name, label in WORKLOADS:
        t, d = (statistics.median(peaks[(name, lib)]) for lib in ("torch", "descent"))
        memory.append(f"| {label} | {t:.0f} MB | {d:.0f} MB | {t / d:.2f}× |")
    text += ("\nPeak resident memory of each process (one workload per process, the library's code "
             "and the benchmark's data included), median over its 1-thread runs:\n\n"
             + "\n".join(memory) + "\n")
    shares = []
    for name, label in WORKLOADS:
        kind, _, size = name.partition("/")
        if kind not in UPDATE_BYTES:
            continue
        for threads in (1, 2):
            gbs = gb_per_s(UPDATE_BYTES[kind] * UPDATE_ELEMENTS[size],
                           med[(name, threads, "descent", "")])
            tri = gb_per_s(12 * 10_000_000, triad[threads])
            shares.append(f"{label} {threads}T {gbs:.1f} GB/s ({100 * gbs / tri:.0f} %)")
    text += (f"\nBandwidth of descent's updates (bytes each must move: Adam 28, SGD-momentum 20 per "
             f"element) against the triad a = b + s·c over 10M floats (12 bytes per element) on this "
             f"machine, {gb_per_s(12e7, triad[1]):.1f} GB/s at 1 thread and "
             f"{gb_per_s(12e7, triad[2]):.1f} GB/s at 2: "
             + "; ".join(shares) + ".\n")
    if log:
        text += "\nRepeated runs: " + "; ".join(log) + "\n"
    print(text)
    if args.write_readme:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
        with open(path) as f:
            readme = f.read()
        begin, end = "<!-- compare:begin -->", "<!-- compare:end -->"
        if begin not in readme:
            readme += f"\n## descent vs libtorch (`bench/compare`, issue 10)\n\n{begin}\n{end}\n"
        head, rest = readme.split(begin, 1)
        readme = head + begin + "\n" + text + end + rest.split(end, 1)[1]
        with open(path, "w") as f:
            f.write(readme)


if __name__ == "__main__":
    main()
