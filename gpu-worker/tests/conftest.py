"""Shared test helpers: a tiny dataset store written in the TypeScript side's format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (torch.cuda.is_available() is false)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


def separable(n: int = 600, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two classes split by a hyperplane, with features on scales far from standard, so that
    standardisation matters."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * np.linspace(1, 50, d) + np.linspace(-100, 100, d)
    w = np.linspace(1, -1, d) / np.linspace(1, 50, d)
    y = ((x - np.linspace(-100, 100, d)) @ w > 0).astype(np.int32)
    return x, y


def write_store(
    root: Path,
    x: np.ndarray,
    y: np.ndarray,
    classes: list[str] | None = None,
    digest: str = "sha256-test",
) -> Path:
    """A dataset folder exactly as datasets/store.ts writes it."""
    d = root / "datasets" / digest
    d.mkdir(parents=True, exist_ok=True)
    n, f = x.shape
    classes = classes or [f"c{i}" for i in range(int(y.max()) + 1)]
    np.asarray(x, dtype="<f8").tofile(d / "x.f64")
    np.asarray(y, dtype="<i4").tofile(d / "y.i32")
    meta = {
        "digest": digest,
        "name": "test",
        "source": "tests",
        "featureNames": [f"f{i}" for i in range(f)],
        "labelName": "label",
        "classes": classes,
        "nRows": n,
        "nFeatures": f,
    }
    (d / "meta.json").write_text(json.dumps(meta, indent=2))
    return d


def write_split(path: Path, indices: np.ndarray | list[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.asarray(indices, dtype="<u4").tofile(path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> dict[str, Path]:
    x, y = separable()
    ds = write_store(tmp_path, x, y, classes=["no", "yes"])
    train = write_split(tmp_path / "splits" / "train.u32", np.arange(0, 480))
    valid = write_split(tmp_path / "splits" / "valid.u32", np.arange(480, 600))
    return {"root": tmp_path, "dataset": ds, "train": train, "valid": valid}
