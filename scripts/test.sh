#!/usr/bin/env bash
# Sets everything up (idempotent, fast the second time) and runs the whole test suite:
# type check, unit tests, workflow tests on Temporal's time-skipping test server, then integration
# tests against the real local stack
# (PostgreSQL, Temporal dev server, MLflow), which it starts if needed and stops afterwards
# only if it was the one that started it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "==> type check"
npx tsc --noEmit

echo "==> static checks (ESLint: floating promises, workflow imports; ruff and mypy on gpu-worker/)"
npx eslint .
(cd gpu-worker && .venv/bin/ruff check . && .venv/bin/mypy)

mkdir -p .flywheel
echo "==> unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json=.flywheel/test-unit.json

echo "==> alert rules (promtool test rules config/prometheus/tests/*.yml)"
if command -v promtool >/dev/null; then
  promtool test rules config/prometheus/tests/*.yml
else
  echo "SKIPPED: promtool not found (Debian package prometheus; scripts/setup.sh installs it): the alert rules were not tested"
fi

echo "==> workflow tests (time-skipping test server: hours of timers in seconds, no stack)"
npx vitest run --project workflows --reporter=default --reporter=json --outputFile.json=.flywheel/test-workflows.json

echo "==> GPU worker tests (pytest; CUDA-only tests skip without a GPU)"
gpu-worker/.venv/bin/python -m pytest gpu-worker/tests -q -p no:cacheprovider --junitxml=.flywheel/test-gpu-worker.xml

# `status` exits 3 while anything is down: that is the answer here, not a failure.
stack_was_up=$({ node bin/flywheel.mjs status --json 2>/dev/null || true; } | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    try {
      const parts = JSON.parse(s);
      const core = parts.filter((p) => ["postgres", "temporal", "mlflow"].includes(p.name));
      console.log(core.length === 3 && core.every((p) => p.state === "running" || p.state === "external") ? 1 : 0);
    } catch { console.log(0); }
  });')
echo "==> local stack (already up: $stack_was_up)"
node bin/flywheel.mjs up --no-workers
if [ "$stack_was_up" != 1 ]; then
  trap 'echo "==> stopping the stack this run started"; node bin/flywheel.mjs down || true' EXIT
fi

echo "==> integration tests (real Temporal, PostgreSQL, MLflow)"
status=0
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=.flywheel/test-integration.json || status=$?

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of [".flywheel/test-unit.json", ".flywheel/test-workflows.json", ".flywheel/test-integration.json"]) {
    if (!fs.existsSync(f)) continue;
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests || 0);
  }
  const junit = ".flywheel/test-gpu-worker.xml";
  if (fs.existsSync(junit)) {
    const suite = fs.readFileSync(junit, "utf8").match(/<testsuite [^>]*>/)[0];
    const n = (k) => Number((suite.match(new RegExp(` ${k}="(\\d+)"`)) || [0, 0])[1]);
    passed += n("tests") - n("failures") - n("errors") - n("skipped");
    failed += n("failures") + n("errors");
    skipped += n("skipped");
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
