#!/usr/bin/env bash
# Sets everything up (idempotent) and runs the end-to-end demo on the local stack:
#   1. trains the Palmer penguins through the durable TrainingPipeline (v1), and a bad dataset is
#      rejected at the edge;
#   2. runs a parallel, pruned TPE hyperparameter search whose best configuration becomes v2;
#   3. deploys v1 to the serving gateway and, under replayed traffic with delayed true labels,
#      canaries v2 to 100% (it becomes champion);
#   4. canaries a deliberately worse v3, which is rolled back automatically with the reason;
#   5. A/B-tests v2 against a worse v4 until the always-valid test names the winner;
#   6. serves a model of SEA concept 0 under a drift monitor and a nightly retraining schedule, then
#      replays concept-3 traffic: ADWIN detects the drift, a Retraining starts by itself, and its
#      better challenger is canaried;
#   7. runs an online copy of the concept-0 model that learns from each label as it arrives.
# (v1…v4 are the versions this run registers; on a rerun the registry numbers them further on.)
# The stack stays up afterwards so everything can be seen in the Temporal UI and the MLflow UI.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
flywheel() { node bin/flywheel.mjs "$@"; }
# Version numbers come from the registry (a rerun of the demo adds new versions): read them from --json.
version_of() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).version));'; }
step() { printf '\n==> %s\n' "$*"; }

step "starting the local stack: PostgreSQL, Temporal, MLflow, workers, serving gateway"
flywheel up

step "1. training 'penguins' v1 through the TrainingPipeline workflow"
v1=$(flywheel train --dataset penguins --model penguins -p epochs=60 --wait --json | version_of)
echo "registered penguins v$v1"
step "   a dataset with missing values is rejected at the edge, before anything starts"
if flywheel train --dataset penguins-raw --model penguins-raw; then
  echo "expected penguins-raw to be rejected" >&2
  exit 1
fi

step "2. hyperparameter search: TPE, 16 trials, 2 at a time, median pruning; the best becomes v2"
v2=$(flywheel train --dataset penguins --model penguins --search tpe --trials 16 --parallel 2 -p epochs=40 --wait --json | version_of)
echo "registered penguins v$v2 with the best configuration"

step "3. serving v1, replaying penguins traffic with delayed true labels, canarying v2"
flywheel deploy penguins "$v1"
# Run node itself in the background (not the `flywheel` function): $! must be the process to stop,
# not a subshell whose death would leave the replay running after the demo.
node bin/flywheel.mjs traffic replay --model penguins --dataset penguins --rate 80 --duration 900 --label-delay-ms 200 --units 2000 > .flywheel/logs/demo-replay.log 2>&1 &
replay_pid=$!
trap 'kill $replay_pid 2>/dev/null || true' EXIT
flywheel canary start penguins "$v2" --steps 20:6s,50:6s,100 --interval 2 --wait
flywheel canary status penguins

step "4. a worse version (serves a wrong class for 60% of rows) is canaried and rolled back by the analysis"
v3=$(flywheel train --dataset penguins --model penguins -p epochs=60 -p seed=3 --wait --json | version_of)
flywheel deploy penguins "$v3"
flywheel traffic fault penguins "$v3" --wrong-labels 0.6
flywheel canary start penguins "$v3" --steps 20:6s,50:6s,100 --interval 2 --wait
flywheel canary status penguins

step "5. A/B test: the champion against a worse version, sized for a 0.1 accuracy change and decided by an mSPRT that may be checked at every look"
v4=$(flywheel train --dataset penguins --model penguins -p epochs=60 -p seed=4 --wait --json | version_of)
flywheel deploy penguins "$v4"
flywheel traffic fault penguins "$v4" --wrong-labels 0.4
flywheel ab start penguins "$v2" "$v4" --mde 0.1 --min-sample 60 --interval 2 --max-duration 120 --wait
flywheel traffic fault penguins "$v4" --clear
kill $replay_pid 2>/dev/null || true

step "6. continuous learning: a model of SEA concept 0 meets concept-3 traffic (River's SEA stream), retrained on what it served"
npx tsx scripts/make-sea-data.ts .flywheel/demo
# Each run gets its own model (a rerun must not inherit the last run's champion); earlier runs'
# monitors and schedules make way.
for old in $(flywheel workflows list --limit 100 --json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
      console.log([...new Set(JSON.parse(s).filter((w) => w.type === "DriftMonitor" && w.status === "RUNNING" && /^sea-/.test(w.model ?? "")).map((w) => w.model))].join(" ")));'); do
  flywheel drift stop "$old" > /dev/null 2>&1 || true
  flywheel schedule delete "$old" > /dev/null 2>&1 || true
done
sea="sea-$(date -u +%Y%m%d%H%M%S)"
vs=$(flywheel train --dataset .flywheel/demo/sea-concept0-train.csv --model "$sea" -p epochs=60 --wait --json | version_of)
flywheel deploy "$sea" "$vs" > /dev/null
# Retraining learns from what the model has been serving: its predictions joined with their labels,
# from the moment the drift was found (once 1,000 labelled outcomes served since then have arrived;
# 2,000 by default), judged on the newest of them.
flywheel drift start "$sea" --dataset production:1h --min-new-labels 1000 --poll 2s --canary-steps 25:6s,100 --canary-interval 2
flywheel schedule create "$sea" --dataset production:7d --cron "0 2 * * *"
echo "   serving concept 0, then concept 3, with true labels posted back"
flywheel traffic replay --model "$sea" --dataset .flywheel/demo/sea-concept0-serve.csv --rate 100 --duration 5 --label-delay-ms 100 > /dev/null
node bin/flywheel.mjs traffic replay --model "$sea" --dataset .flywheel/demo/sea-concept3-serve.csv --rate 100 --duration 300 --label-delay-ms 100 > .flywheel/logs/demo-replay-sea.log 2>&1 &
sea_replay=$!
trap 'kill $replay_pid $sea_replay 2>/dev/null || true' EXIT
echo "   waiting for ADWIN to detect the drift, the retraining to train a challenger, and its canary"
for _ in $(seq 1 150); do
  done_canary=$(flywheel workflows list --model "$sea" --limit 20 --json | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const c = JSON.parse(s).find((w) => w.type === "CanaryRollout" && w.status !== "RUNNING");
      console.log(c ? c.workflowId : "");
    });')
  [ -n "$done_canary" ] && break
  sleep 2
done
kill $sea_replay 2>/dev/null || true
if [ -z "$done_canary" ]; then
  echo "the drift → retraining → canary loop did not finish within 5 minutes: see flywheel drift status $sea" >&2
  exit 1
fi
flywheel drift events "$sea" --limit 3
echo
flywheel canary status "$sea"
echo
echo "   what each version learned from (v1: the concept-0 file; the challenger: production traffic)"
flywheel models show "$sea"
echo
flywheel schedule list

step "7. an online copy of the concept-0 model learns from every label as it arrives"
flywheel online start "$sea" --from "$vs" --name "$sea-online" --snapshot-every 1m
# The gateway picks a new online model up on its next reload (NOTIFY, or the poll): wait for it.
# The gateway asks who is calling: the demo sends the local admin key `flywheel up` created.
node -e '
  const [url, name, keyFile] = process.argv.slice(1);
  const key = process.env.FLYWHEEL_API_KEY ?? require("node:fs").readFileSync(keyFile, "utf8").trim();
  (async () => {
    for (let i = 0; i < 50; i++) {
      const body = await fetch(`${url}/v1/online`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.json()).catch(() => ({}));
      if ((body.models ?? []).some((m) => m.name === name)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.error(`the gateway did not load online model ${name}`);
    process.exit(1);
  })();' "http://127.0.0.1:${FLYWHEEL_GATEWAY_PORT:-8088}" "$sea-online" "${FLYWHEEL_DATA_DIR:-.flywheel}/credentials/cli.key"
accuracy_of() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).byVersion.online.accuracy.toFixed(3)));'; }
a1=$(flywheel traffic replay --online --model "$sea-online" --dataset .flywheel/demo/sea-concept3-serve.csv --rate 100 --duration 8 --label-delay-ms 20 --seed 11 --json | accuracy_of)
a2=$(flywheel traffic replay --online --model "$sea-online" --dataset .flywheel/demo/sea-concept3-serve.csv --rate 100 --duration 8 --label-delay-ms 20 --seed 12 --json | accuracy_of)
echo "   online model's accuracy on concept-3 traffic: first 8 s $a1, next 8 s $a2"
flywheel online snapshot "$sea-online" > /dev/null
sleep 3
flywheel online status "$sea-online"

step "8. a neural model on the PyTorch pool: the TypeScript pipeline hands training to the Python worker"
# pool auto waits for a GPU worker first; on a machine without one the same worker runs on the CPU.
flywheel train --dataset breast-cancer --model breast-cancer-mlp --family mlp --pool auto --gpu-wait 3 \
  -p epochs=40 -p hiddenUnits=64 -p batchSize=64 -p learningRate=0.003 --wait

step "9. knowledge: facts from three conversations validated into the graph; a hearsay claim is rejected with its reason"
# Two customers state the same facts (two independent sources: accepted); a third passes on what
# a cousin insists, which is someone else's claim, and the pipeline says so.
# (A second run of the demo finds the batch already ingested, under the same content-addressed id.)
kb=$({ flywheel knowledge ingest scripts/demo-knowledge.jsonl --json || true; } | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const j = JSON.parse(s);
    console.log(j.workflowId ?? /as (knowledge-[0-9a-f]+)/.exec(j.error ?? "")?.[1] ?? "");
  });')
for _ in $(seq 60); do
  state=$(flywheel knowledge status "$kb" --json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).state ?? ""))')
  [ "$state" = completed ] && break
  sleep 2
done
flywheel knowledge status "$kb"

step "operations: the rollback of step 4 fires FlywheelCanaryRolledBack; flywheel doctor shows what Alertmanager holds"
# Prometheus evaluates the rule every 15 s and Alertmanager groups for 30 s; by now both have seen it.
# doctor exits 1 when it finds traffic no workflow owns; here it is only asked to report.
flywheel doctor --model penguins || true

step "the registry (MLflow) with lineage, and the workflows (Temporal)"
flywheel models show penguins
echo
flywheel workflows list --limit 15

cat <<TXT

Done. The stack is still running:
  Temporal UI  http://127.0.0.1:8233   (search: FlywheelModel = "penguins" or "$sea"; Schedules: retrain-$sea)
  MLflow UI    http://127.0.0.1:5000   (Models → penguins: champion alias, rejected v3 with its reason)
  Gateway      http://127.0.0.1:8088/v1/models   (metrics: /metrics)
  Prometheus   http://127.0.0.1:9090   (Alerts: FlywheelCanaryRolledBack for penguins)
  Alertmanager http://127.0.0.1:9093
Stop it with: node bin/flywheel.mjs down
TXT
