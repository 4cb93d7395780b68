#!/usr/bin/env bash
# Installs what descent needs on Debian 12, as root, and only what is missing.
#   tools/setup-debian.sh            build dependencies (compiler, CMake, Eigen, OpenBLAS, oneDNN
#                                    with the OpenCL files its CMake package asks for, fmt,
#                                    Catch2, JSON, CLI11, zlib), gnuplot for the examples' plots
#                                    and Fashion-MNIST (dataset-fashion-mnist) for its loader's test
#   tools/setup-debian.sh onnx       also what checks the ONNX export: Node.js with ONNX Runtime's
#                                    CPU build (onnxruntime-node, the version pinned in
#                                    tools/onnx/package-lock.json, into tools/onnx/node_modules)
#                                    and ONNX's checker (python3-onnx)
#   tools/setup-debian.sh mpi        also Open MPI (descent::distributed, -DDESCENT_DISTRIBUTED=ON)
#   tools/setup-debian.sh bench      also Google Benchmark
#   tools/setup-debian.sh fixtures   also PyTorch (to regenerate the reference fixtures)
set -euo pipefail

packages=(g++ cmake make libeigen3-dev libopenblas-dev libfmt-dev catch2 nlohmann-json3-dev libcli11-dev zlib1g-dev gnuplot-nox
          libdnnl-dev ocl-icd-opencl-dev dataset-fashion-mnist)
onnx=false
for extra in "$@"; do
    case "$extra" in
        onnx)
            onnx=true
            packages+=(python3-onnx)
            # Node.js and npm from Debian unless some are there already (NodeSource's nodejs
            # bundles npm and conflicts with Debian's npm package).
            command -v node >/dev/null || packages+=(nodejs)
            command -v npm >/dev/null || packages+=(npm)
            ;;
        mpi) packages+=(libopenmpi-dev openmpi-bin) ;;
        bench) packages+=(libbenchmark-dev) ;;
        fixtures) packages+=(python3-torch) ;;
        *) echo "setup-debian.sh: unknown extra '$extra'" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

$onnx || exit 0
# onnxruntime-node for tools/onnx_runtime_check.mjs, exactly as locked; its CPU binaries are in
# the package, and the install script's optional download (CUDA) is skipped.
onnx_dir="$(cd "$(dirname "$0")" && pwd)/onnx"
pinned=$(node -p "require('$onnx_dir/package.json').dependencies['onnxruntime-node']")
installed=$(node -p "require('$onnx_dir/node_modules/onnxruntime-node/package.json').version" \
            2>/dev/null || true)
if [ "$installed" != "$pinned" ]; then
    echo "installing onnxruntime-node into $onnx_dir/node_modules"
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --prefix "$onnx_dir" --no-audit --no-fund
fi
