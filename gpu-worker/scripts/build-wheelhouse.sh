#!/usr/bin/env bash
# Fills gpu-worker/wheelhouse/ with every wheel the GPU check machine needs to install this package
# without a network: Linux x86_64, CPython 3.12, with its own PyTorch (and so torch's CUDA wheels,
# triton and numpy) already installed, which are therefore left out. Also the package's own wheel,
# and pip's, for machines whose Python cannot create a venv with pip.
#
#   bash gpu-worker/scripts/build-wheelhouse.sh          # PIP=/path/to/pip to choose the pip
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$HERE/wheelhouse"
PY_VERSION="${PY_VERSION:-3.12}"
MAX_MB="${MAX_MB:-60}"

if [ -z "${PIP:-}" ]; then
  for candidate in "$HERE/.venv/bin/pip" /tmp/gpuvenv/venv/bin/pip; do
    if [ -x "$candidate" ]; then PIP="$candidate"; break; fi
  done
fi
PIP="${PIP:-pip3}"
echo "build-wheelhouse: using $PIP ($("$PIP" --version))"

rm -rf "$OUT"
mkdir -p "$OUT"
platform_args=(--only-binary=:all: --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64
  --platform manylinux_2_17_x86_64 --python-version "$PY_VERSION" --implementation cp)

# The pins of requirements.lock, less what the GPU machine brings; their dependencies resolve for
# the target platform, not this one.
"$PIP" download --quiet --disable-pip-version-check "${platform_args[@]}" --dest "$OUT" \
  temporalio==1.35.0 onnx==1.23.2 onnxruntime==1.31.1 pytest==9.2.0 pytest-asyncio==1.5.0 protobuf pip setuptools

# onnx and onnxruntime depend on numpy, so the resolver fetched it; the machine's own numpy must
# win (torch was built against it). Nothing here depends on torch, but be explicit anyway.
rm -f "$OUT"/numpy-*.whl "$OUT"/torch-*.whl "$OUT"/triton-*.whl "$OUT"/nvidia_*.whl

"$PIP" wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation --wheel-dir "$OUT" "$HERE"
# setuptools leaves its build tree beside the sources.
rm -rf "$HERE/build"

ls -1 "$OUT"
size_kb="$(du -sk "$OUT" | cut -f1)"
echo "build-wheelhouse: $(ls -1 "$OUT" | wc -l) wheels, $((size_kb / 1024)) MB in $OUT"
if [ "$size_kb" -ge $((MAX_MB * 1024)) ]; then
  echo "build-wheelhouse: the wheelhouse is over ${MAX_MB} MB" >&2
  exit 1
fi
