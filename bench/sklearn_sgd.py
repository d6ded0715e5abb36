"""Times scikit-learn's SGDClassifier on the data bench/train-throughput.ts wrote, for comparison.

partial_fit once per epoch is one pass of per-sample SGD over shuffled rows, which is what the
TypeScript trainer does with batchSize 1. Prints one JSON object on stdout.
"""

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import SGDClassifier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--features", required=True, type=int)
    ap.add_argument("--classes", required=True, type=int)
    ap.add_argument("--epochs", required=True, type=int)
    ap.add_argument("--lr", required=True, type=float)
    ap.add_argument("--l2", required=True, type=float)
    ap.add_argument("--seed", required=True, type=int)
    a = ap.parse_args()

    x = np.fromfile(a.dir / "x_train.f64", dtype="<f8").reshape(-1, a.features)
    y = np.fromfile(a.dir / "y_train.i32", dtype="<i4")
    xh = np.fromfile(a.dir / "x_holdout.f64", dtype="<f8").reshape(-1, a.features)
    yh = np.fromfile(a.dir / "y_holdout.i32", dtype="<i4")
    classes = np.arange(a.classes)

    clf = SGDClassifier(
        loss="log_loss",
        penalty="l2",
        alpha=a.l2,
        learning_rate="constant",
        eta0=a.lr,
        shuffle=True,
        random_state=a.seed,
    )
    start = time.perf_counter()
    for _ in range(a.epochs):
        clf.partial_fit(x, y, classes=classes)
    seconds = time.perf_counter() - start

    print(
        json.dumps(
            {
                "implementation": f"scikit-learn {sklearn.__version__} SGDClassifier.partial_fit",
                "rows": int(x.shape[0]),
                "epochs": a.epochs,
                "seconds": seconds,
                "samplesPerSecond": x.shape[0] * a.epochs / seconds,
                # Linux reports ru_maxrss in KiB.
                "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "accuracy": float(clf.score(xh, yh)),
            }
        )
    )


if __name__ == "__main__":
    main()
