"""Leave-one-set-out: a logistic calibrator trained on the other sets' blind-time candidates, judged
on the held-out set's, among the candidates the policy would accept alone (confidence >= 0.85).

    .venv/bin/python bench/knowledge/calibration-study/leave-one-set-out.py /tmp/blind.jsonl
"""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

rows = [json.loads(line) for line in open(sys.argv[1])]
X = np.array([r["features"] for r in rows])
y = np.array([r["label"] for r in rows])
conf = np.array([r["confidence"] for r in rows])
sets = np.array([r["set"] for r in rows])
accepted = conf >= 0.85
for C in (0.1, 1.0, 10.0):
    p = np.zeros(len(y))
    for s in sorted(set(sets)):
        model = LogisticRegression(C=C, max_iter=5000).fit(X[sets != s], y[sets != s])
        p[sets == s] = model.predict_proba(X[sets == s])[:, 1]
    print(f"C={C}: AUC among accepted, calibrator {roc_auc_score(y[accepted], p[accepted]):.3f}, extractor's confidence {roc_auc_score(y[accepted], conf[accepted]):.3f}")
    for tau in (0.0, 0.5, 0.7, 0.8):
        keep = accepted & (p >= tau)
        per_set = "  ".join(f"{s} {y[keep & (sets == s)].mean():.3f}/{y[keep & (sets == s)].sum()}" for s in sorted(set(sets)))
        print(f"  keep p >= {tau}: precision {y[keep].mean():.3f}, true kept {y[keep].sum()} of {y[accepted].sum()}, false kept {(1 - y[keep]).sum()} of {(1 - y[accepted]).sum()} | {per_set}")
