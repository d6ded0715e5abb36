"""River's side of bench/online/run.ts: the same files, River's estimators. Prints one JSON object.

    learner mode: progressive validation (predict_one, then learn_one) over x.f64/y.i32
    adwin mode:   River's ADWIN (defaults) over values.f64; detection indices and updates/s

Rows are turned into River's dict samples before the clock starts, so the timing covers only
predict_one + learn_one (or ADWIN.update), as the TypeScript side's does.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import river
from river import drift, ensemble, linear_model


def make_learner(name: str, seed: int):
    if name == "logreg":
        return linear_model.LogisticRegression()
    if name == "pa1":
        return linear_model.PAClassifier()
    if name == "pa2":
        return linear_model.PAClassifier(mode=2)
    if name == "bagging_logreg":
        return ensemble.BaggingClassifier(linear_model.LogisticRegression(), n_models=10, seed=seed)
    if name == "adwin_bagging_logreg":
        return ensemble.ADWINBaggingClassifier(linear_model.LogisticRegression(), n_models=10, seed=seed)
    raise SystemExit(f"unknown learner {name}")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_learner(a) -> dict:
    X = np.fromfile(a.dir / f"{a.dataset}.x.f64", dtype="<f8").reshape(-1, a.features)
    y = np.fromfile(a.dir / f"{a.dataset}.y.i32", dtype="<i4")
    xs = [dict(enumerate(row)) for row in X.tolist()]
    ys = [bool(v) for v in y.tolist()]
    model = make_learner(a.learner, a.seed)
    correct = 0
    t0 = time.perf_counter()
    for x, yi in zip(xs, ys):
        if model.predict_one(x) == yi:
            correct += 1
        model.learn_one(x, yi)
    seconds = time.perf_counter() - t0
    return {
        "implementation": f"river {river.__version__}",
        "samples": len(ys),
        "seconds": seconds,
        "samplesPerSecond": len(ys) / seconds,
        "accuracy": correct / len(ys),
        "peakRssMb": peak_rss_mb(),
    }


def run_adwin(a) -> dict:
    values = np.fromfile(a.dir / f"{a.dataset}.f64", dtype="<f8").tolist()
    detector = drift.ADWIN()
    detections = []
    t0 = time.perf_counter()
    for i, v in enumerate(values):
        detector.update(v)
        if detector.drift_detected:
            detections.append(i)
    seconds = time.perf_counter() - t0
    return {
        "implementation": f"river {river.__version__}",
        "updates": len(values),
        "seconds": seconds,
        "updatesPerSecond": len(values) / seconds,
        "detections": detections,
        "width": detector.width,
        "estimation": detector.estimation,
        "peakRssMb": peak_rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["learner", "adwin"])
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--learner")
    ap.add_argument("--features", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(json.dumps(run_learner(a) if a.mode == "learner" else run_adwin(a)))


if __name__ == "__main__":
    main()
