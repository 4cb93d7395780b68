#!/usr/bin/env bash
# Installs what descent needs on Debian 12, as root, and only what is missing.
#   tools/setup-debian.sh            build dependencies (compiler, CMake, Eigen, OpenBLAS, oneDNN
#                                    with the OpenCL files its CMake package asks for, fmt,
#                                    Catch2, JSON, CLI11, zlib), gnuplot for the examples' plots
#                                    and Fashion-MNIST (dataset-fashion-mnist) for its loader's test
#   tools/setup-debian.sh mpi        also Open MPI (descent::distributed, -DDESCENT_DISTRIBUTED=ON)
#   tools/setup-debian.sh bench      also Google Benchmark
#   tools/setup-debian.sh fixtures   also PyTorch (to regenerate the reference fixtures)
set -euo pipefail

packages=(g++ cmake make libeigen3-dev libopenblas-dev libfmt-dev catch2 nlohmann-json3-dev libcli11-dev zlib1g-dev gnuplot-nox
          libdnnl-dev ocl-icd-opencl-dev dataset-fashion-mnist)
for extra in "$@"; do
    case "$extra" in
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
