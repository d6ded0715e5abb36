#!/usr/bin/env bash
# Sets everything up (idempotent) and runs the end-to-end demo on the local stack: trains a real
# dataset through the durable pipeline, shows a bad dataset being rejected, and leaves the stack
# running so the result can be seen in the Temporal UI and the MLflow UI.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
flywheel() { node bin/flywheel.mjs "$@"; }

echo "==> starting the local stack and workers"
flywheel up

echo
echo "==> training 'penguins' (Palmer penguins, 3 species) through the TrainingPipeline workflow"
flywheel train --dataset penguins --model penguins -p epochs=60 --wait

echo
echo "==> a dataset with missing values is rejected at the edge, before anything starts"
if flywheel train --dataset penguins-raw --model penguins-raw; then
  echo "expected penguins-raw to be rejected" >&2
  exit 1
fi

echo
echo "==> the registry (MLflow) with lineage"
flywheel models show penguins
echo
flywheel workflows list --model penguins --limit 5

cat <<TXT

Done. The stack is still running:
  Temporal UI  http://127.0.0.1:8233   (workflow train-penguins-…; search: FlywheelModel = "penguins")
  MLflow UI    http://127.0.0.1:5000   (Models → penguins)
Stop it with: node bin/flywheel.mjs down
TXT
