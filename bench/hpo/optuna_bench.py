"""Optuna side of the HPO benchmark (driven by bench/hpo/run.ts).

Runs Optuna's TPESampler (its defaults) or RandomSampler on the benchmark functions, which are
defined here exactly as in bench/hpo/functions.ts, and prints one JSON line per study:
the best value after each trial and the seconds spent inside the sampler for each trial.

Usage:
  optuna_bench.py run --sampler tpe --function branin --seeds 0,1,2 --trials 100
  optuna_bench.py check --function branin --points '[{"x1": 0.5, "x2": 2}]'
  optuna_bench.py propose --function branin --history history.json --draws 1000
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from typing import Any, Callable

import optuna
from optuna.samplers import BaseSampler, RandomSampler, TPESampler

# --- functions: keep in step with bench/hpo/functions.ts -------------------------------------

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
HARTMANN_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def branin(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(p: dict[str, Any]) -> float:
    x = [p[f"x{j}"] for j in range(6)]
    total = 0.0
    for i in range(4):
        inner = 0.0
        for j in range(6):
            inner += HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j]) ** 2
        total += HARTMANN_ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock(p: dict[str, Any]) -> float:
    x = [p[f"x{j}"] for j in range(len(p))]
    total = 0.0
    for i in range(len(x) - 1):
        total += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2
    return total


MIXED_BASE = {"sgd": 0.0, "adam": 0.05, "rmsprop": 0.15}
MIXED_LR = {"sgd": -1.5, "adam": -3.0, "rmsprop": -2.5}
MIXED_BATCH = {16: 0.08, 32: 0.02, 64: 0.0, 128: 0.03, 256: 0.1}


def mixed(p: dict[str, Any]) -> float:
    opt = p["optimizer"]
    v = MIXED_BASE[opt]
    v += 0.5 * (math.log10(p["lr"]) - MIXED_LR[opt]) ** 2
    v += 0.1 * (p["layers"] - 4) ** 2
    v += 4 * (p["dropout"] - 0.2) ** 2
    v += MIXED_BATCH[p["batch"]]
    if opt == "sgd":
        v += 2 * (p["momentum"] - 0.9) ** 2
    return v


def suggest_box(names: list[str], low: float, high: float) -> Callable[[optuna.Trial], dict[str, Any]]:
    return lambda trial: {n: trial.suggest_float(n, low, high) for n in names}


def suggest_mixed(trial: optuna.Trial) -> dict[str, Any]:
    p: dict[str, Any] = {
        "optimizer": trial.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"]),
        "lr": trial.suggest_float("lr", 1e-5, 1.0, log=True),
        "layers": trial.suggest_int("layers", 1, 8),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5, step=0.05),
        "batch": trial.suggest_categorical("batch", [16, 32, 64, 128, 256]),
    }
    if p["optimizer"] == "sgd":
        p["momentum"] = trial.suggest_float("momentum", 0.0, 0.99)
    return p


def suggest_branin(trial: optuna.Trial) -> dict[str, Any]:
    return {"x1": trial.suggest_float("x1", -5, 10), "x2": trial.suggest_float("x2", 0, 15)}


FUNCTIONS: dict[str, tuple[Callable[[optuna.Trial], dict[str, Any]], Callable[[dict[str, Any]], float]]] = {
    "branin": (suggest_branin, branin),
    "hartmann6": (suggest_box([f"x{j}" for j in range(6)], 0.0, 1.0), hartmann6),
    "rosenbrock2": (suggest_box([f"x{j}" for j in range(2)], -5.0, 10.0), rosenbrock),
    "rosenbrock5": (suggest_box([f"x{j}" for j in range(5)], -5.0, 10.0), rosenbrock),
    "mixed": (suggest_mixed, mixed),
}

# --- timing -----------------------------------------------------------------------------------


class TimedSampler(BaseSampler):
    """Delegates to a real sampler and adds up the time spent in it, per trial."""

    def __init__(self, inner: BaseSampler) -> None:
        self.inner = inner
        self.seconds: dict[int, float] = {}

    def _timed(self, number: int, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return fn()
        finally:
            self.seconds[number] = self.seconds.get(number, 0.0) + time.perf_counter() - t0

    def infer_relative_search_space(self, study, trial):  # type: ignore[no-untyped-def]
        return self._timed(trial.number, lambda: self.inner.infer_relative_search_space(study, trial))

    def sample_relative(self, study, trial, search_space):  # type: ignore[no-untyped-def]
        return self._timed(trial.number, lambda: self.inner.sample_relative(study, trial, search_space))

    def sample_independent(self, study, trial, param_name, param_distribution):  # type: ignore[no-untyped-def]
        return self._timed(
            trial.number, lambda: self.inner.sample_independent(study, trial, param_name, param_distribution)
        )

    def before_trial(self, study, trial):  # type: ignore[no-untyped-def]
        return self._timed(trial.number, lambda: self.inner.before_trial(study, trial))

    def after_trial(self, study, trial, state, values):  # type: ignore[no-untyped-def]
        return self._timed(trial.number, lambda: self.inner.after_trial(study, trial, state, values))

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()


def make_sampler(name: str, seed: int) -> BaseSampler:
    if name == "tpe":
        return TPESampler(seed=seed)
    if name == "random":
        return RandomSampler(seed=seed)
    raise SystemExit(f"unknown sampler {name}")


def run_study(sampler_name: str, function: str, seed: int, n_trials: int) -> dict[str, Any]:
    suggest, f = FUNCTIONS[function]
    sampler = TimedSampler(make_sampler(sampler_name, seed))
    study = optuna.create_study(sampler=sampler, direction="minimize")
    best = math.inf
    best_trace: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        return f(suggest(trial))

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        nonlocal best
        if trial.value is not None:
            best = min(best, trial.value)
        best_trace.append(best)

    study.optimize(objective, n_trials=n_trials, callbacks=[record])
    seconds = [sampler.seconds.get(i, 0.0) for i in range(n_trials)]
    return {"best": best_trace, "sampleSeconds": seconds}


def propose(function: str, history_file: str, draws: int) -> list[float]:
    """Objective values of `draws` one-off TPE proposals, each from a fresh seed, all given the same history."""
    suggest, f = FUNCTIONS[function]
    with open(history_file) as fh:
        history = json.load(fh)
    # Replaying each point through the suggest function yields its distributions (conditionals too).
    frozen = []
    for h in history:
        fixed = optuna.trial.FixedTrial(h["params"])
        suggest(fixed)
        frozen.append(optuna.trial.create_trial(params=h["params"], distributions=fixed.distributions, value=h["value"]))
    values = []
    for i in range(draws):
        study = optuna.create_study(sampler=TPESampler(seed=i))
        study.add_trials(frozen)
        trial = study.ask()
        values.append(f(suggest(trial)))
    return values


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--sampler", required=True)
    r.add_argument("--function", required=True)
    r.add_argument("--seeds", required=True)
    r.add_argument("--trials", type=int, required=True)
    c = sub.add_parser("check")
    c.add_argument("--function", required=True)
    c.add_argument("--points", required=True)
    pr = sub.add_parser("propose")
    pr.add_argument("--function", required=True)
    pr.add_argument("--history", required=True)
    pr.add_argument("--draws", type=int, required=True)
    args = ap.parse_args()

    if args.cmd == "propose":
        print(json.dumps(propose(args.function, args.history, args.draws)))
        return

    if args.cmd == "check":
        f = FUNCTIONS[args.function][1]
        print(json.dumps([f(p) for p in json.loads(args.points)]))
        return

    for seed in [int(s) for s in args.seeds.split(",")]:
        out = run_study(args.sampler, args.function, seed, args.trials)
        out.update({"side": "optuna", "sampler": args.sampler, "function": args.function, "seed": seed})
        print(json.dumps(out), flush=True)
    # ru_maxrss is in KiB on Linux.
    print(json.dumps({"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
