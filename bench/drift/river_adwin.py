"""River's side of bench/drift/delay.ts: River's ADWIN over the same error streams.

Reads <dir>/streams.f64 (n streams of equal length, concatenated) and prints one JSON object with,
per stream, the 0-based indices where ADWIN reported a change. One fresh detector per stream.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import river
from river import drift


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--length", required=True, type=int)
    ap.add_argument("--delta", type=float, default=0.002)
    a = ap.parse_args()
    values = np.fromfile(a.dir / "streams.f64", dtype="<f8")
    out = []
    for s in range(len(values) // a.length):
        detector = drift.ADWIN(delta=a.delta)
        hits = []
        for i, v in enumerate(values[s * a.length : (s + 1) * a.length].tolist()):
            detector.update(v)
            if detector.drift_detected:
                hits.append(i)
        out.append(hits)
    print(json.dumps({"implementation": f"river {river.__version__}", "detections": out}))


if __name__ == "__main__":
    main()
