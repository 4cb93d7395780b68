#!/usr/bin/env bash
# Generates the API reference from the public headers into build/docs/html (index.html), with
# Doxygen from Debian (installed if missing); any Doxygen warning fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v doxygen >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends doxygen
fi
mkdir -p build/docs
doxygen tools/Doxyfile
echo "API reference: build/docs/html/index.html"
