"""Optuna's sampler behind a line protocol, so the TypeScript driver evaluates the objective for both
samplers with the same code: read {"space": ..., "seed": n, "sampler": "tpe"|"random"} once, then
answer each "ask" line with the next params as JSON and take each "tell <value>" line."""
import json
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)


def distribution(spec):
    if spec["type"] == "float":
        return optuna.distributions.FloatDistribution(spec["low"], spec["high"], log=spec.get("log", False))
    if spec["type"] == "int":
        return optuna.distributions.IntDistribution(spec["low"], spec["high"], log=spec.get("log", False))
    return optuna.distributions.CategoricalDistribution(spec["choices"])


def main():
    setup = json.loads(sys.stdin.readline())
    sampler = optuna.samplers.TPESampler(seed=setup["seed"]) if setup["sampler"] == "tpe" else optuna.samplers.RandomSampler(seed=setup["seed"])
    study = optuna.create_study(direction="minimize", sampler=sampler)
    space = {name: distribution(spec) for name, spec in setup["space"].items()}
    trial = None
    for line in sys.stdin:
        line = line.strip()
        if line == "ask":
            trial = study.ask(space)
            print(json.dumps(trial.params), flush=True)
        elif line.startswith("tell "):
            study.tell(trial, float(line[5:]))
        elif line == "quit":
            break


if __name__ == "__main__":
    main()
