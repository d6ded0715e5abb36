#!/usr/bin/env bash
# The GPU check: on a CUDA machine with Python 3.12 and PyTorch preinstalled and no network, installs
# this package from gpu-worker/wheelhouse/ (scripts/build-wheelhouse.sh) into a venv that reuses the
# machine's torch and numpy, runs the whole test suite (the cuda-marked tests included) and the
# throughput benchmark. Everything it prints, plus the JSON results, goes under ${OUT:-./gpu-check-out}.
#
#   bash gpu-worker/scripts/gpu-check.sh      # PYTHON=python3.12 to choose the interpreter
#
# GPU_CHECK_ALLOW_CPU=1 rehearses the script on a machine without CUDA (the result is then not ok:
# the cuda-marked tests are skipped); BENCH_ARGS adds benchmark flags (e.g. "--rows 100000").
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-./gpu-check-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PY="${PYTHON:-python3}"
WHEELHOUSE="$HERE/wheelhouse"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1

step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
fail() { echo "gpu-check: FAIL: $*"; echo "{\"ok\": false, \"reason\": \"$*\"}" > "$OUT/summary.json"; exit 1; }
started=$SECONDS

step "environment"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi | tee "$OUT/nvidia-smi.txt"
else
  echo "nvidia-smi: not found"
fi
"$PY" - <<'PY' || fail "torch cannot use CUDA on this machine"
import os, sys, torch
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
if not torch.cuda.is_available():
    print("torch.cuda.is_available() is False")
    sys.exit(0 if os.environ.get("GPU_CHECK_ALLOW_CPU") == "1" else 1)
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"cuda:{i} {p.name}, {p.total_memory / 2**30:.0f} GiB, capability {p.major}.{p.minor}, bf16 {torch.cuda.is_bf16_supported()}")
PY
ls "$WHEELHOUSE"/flywheel_gpu_worker-*.whl > /dev/null 2>&1 || fail "no wheelhouse at $WHEELHOUSE: run scripts/build-wheelhouse.sh first (and carry gpu-worker/wheelhouse)"

step "install from the wheelhouse"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VENV="$WORK/venv"
# --system-site-packages: the machine's torch (and its CUDA libraries) and numpy are used as they are.
if ! "$PY" -m venv --system-site-packages "$VENV" 2> "$OUT/venv.err"; then
  # A Python without ensurepip: a bare venv, then pip from its own wheel.
  cat "$OUT/venv.err"
  rm -rf "$VENV"
  "$PY" -m venv --system-site-packages --without-pip "$VENV" || fail "cannot create a venv with $PY"
  pip_whl="$(ls "$WHEELHOUSE"/pip-*.whl | head -1)"
  "$VENV/bin/python" "$pip_whl/pip" install --quiet --no-index "$pip_whl" || fail "cannot bootstrap pip from $pip_whl"
fi
# --system-site-packages reaches the *base* interpreter's packages. Where "$PY" is itself a venv (the
# CUDA image's python3 is /opt/torch/.venv/bin/python3), torch lives in that venv's site-packages,
# so a .pth file adds them behind this venv's own.
"$PY" -c 'import site, sys; sys.exit(sys.prefix == sys.base_prefix)' && {
  venv_site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  "$PY" -c 'import site; print("\n".join(site.getsitepackages()))' > "$venv_site/zz-interpreter-site.pth"
  echo "$PY is a venv: its site-packages are visible from this one ($(tr '\n' ' ' < "$venv_site/zz-interpreter-site.pth"))"
}
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-index --find-links "$WHEELHOUSE" "flywheel-gpu-worker[test]" \
  || fail "pip install from the wheelhouse failed"
# This wheel's code, even if some flywheel-gpu-worker is already visible from the system.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps --force-reinstall "$WHEELHOUSE"/flywheel_gpu_worker-*.whl \
  || fail "pip install of the flywheel-gpu-worker wheel failed"
"$VENV/bin/python" -m pip list --disable-pip-version-check 2> /dev/null | grep -i -E '^(torch|numpy|onnx|onnxruntime|temporalio|protobuf|pytest|pytest-asyncio|flywheel-gpu-worker) ' | tee "$OUT/versions.txt"

step "tests (pytest, cuda-marked included)"
# From a copy of the tests, so that the installed wheel is what gets imported, not the source tree.
TESTS="$WORK/check"
mkdir -p "$TESTS"
cp -r "$HERE/tests" "$TESTS/tests"
cp "$HERE/pyproject.toml" "$TESTS/"
# The machine's python may carry pytest plugins of its own (xdist, cov, benchmark, ...) built for
# another pytest; only the one this suite needs is loaded.
( cd "$TESTS" && PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 "$VENV/bin/python" -m pytest -p pytest_asyncio.plugin -p no:cacheprovider -rs -v --junitxml "$OUT/pytest.xml" tests ) 2>&1 | tee "$OUT/pytest.log"
pytest_rc=${PIPESTATUS[0]}
# Counts from the JUnit report: the cuda-marked tests must have run here, not been skipped.
read -r cuda_run cuda_skipped tests_total < <("$VENV/bin/python" - "$OUT/pytest.xml" <<'PY' || echo "0 0 0"
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
run = skipped = total = 0
for c in cases:
    total += 1
    if c.get("classname", "").endswith("test_cuda"):
        if c.find("skipped") is not None:
            skipped += 1
        else:
            run += 1
print(run, skipped, total)
PY
)
echo "tests: $tests_total, cuda-marked run: $cuda_run, cuda-marked skipped: $cuda_skipped"

step "benchmark (bench/train_throughput.py --json)"
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
"$VENV/bin/python" "$HERE/bench/train_throughput.py" --json ${BENCH_ARGS:-} > "$OUT/bench.json" 2> "$OUT/bench.err"
bench_rc=$?
cat "$OUT/bench.err"
cat "$OUT/bench.json"

elapsed=$((SECONDS - started))
ok=false
if [ "$pytest_rc" = 0 ] && [ "$bench_rc" = 0 ] && [ "$cuda_skipped" = 0 ] && [ "$cuda_run" -gt 0 ]; then ok=true; fi
echo "{\"ok\": $ok, \"pytestExit\": $pytest_rc, \"tests\": $tests_total, \"cudaTestsRun\": $cuda_run, \"cudaTestsSkipped\": $cuda_skipped, \"benchExit\": $bench_rc, \"seconds\": $elapsed}" | tee "$OUT/summary.json"
status=0
[ "$pytest_rc" = 0 ] || { echo "gpu-check: FAIL: pytest exited $pytest_rc (see pytest.log)"; status=1; }
[ "$cuda_skipped" = 0 ] && [ "$cuda_run" -gt 0 ] || { echo "gpu-check: FAIL: $cuda_run cuda-marked tests ran, $cuda_skipped were skipped"; status=1; }
[ "$bench_rc" = 0 ] || { echo "gpu-check: FAIL: the benchmark exited $bench_rc (see bench.err)"; status=1; }
[ "$status" = 0 ] || exit 1
echo "gpu-check: OK in ${elapsed} s"
