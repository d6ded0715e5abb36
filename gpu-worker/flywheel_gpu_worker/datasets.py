"""Reads the TypeScript side's materialised-dataset store (datasets/store.ts): a folder with meta.json,
x.f64 (little-endian float64, row-major) and y.i32 (little-endian int32 class indices), plus split files
of little-endian uint32 row indices. Read-only: the TypeScript side owns the format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

X_FILE = "x.f64"
Y_FILE = "y.i32"
META_FILE = "meta.json"

# Rows gathered per chunk: bounds the float64 temporary to ~256 MB whatever the dataset size.
_GATHER_CHUNK_BYTES = 256 << 20


class DatasetError(ValueError):
    """A missing or malformed file, named with what was expected."""


@dataclass(frozen=True)
class DatasetMeta:
    digest: str
    name: str
    source: str
    feature_names: list[str]
    label_name: str
    classes: list[str]
    n_rows: int
    n_features: int


@dataclass(frozen=True)
class Dataset:
    dir: Path
    meta: DatasetMeta
    x: np.ndarray  # float64 memmap, n_rows x n_features
    y: np.ndarray  # int32 memmap, n_rows


def _field(meta: dict[str, Any], path: Path, key: str, kind: type) -> Any:
    value = meta.get(key)
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        raise DatasetError(f"{path}: field {key!r} must be a {kind.__name__} (got {json.dumps(value)})")
    return value


def _string_list(meta: dict[str, Any], path: Path, key: str) -> list[str]:
    value = _field(meta, path, key, list)
    if not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{path}: field {key!r} must be a list of strings")
    return value


def read_meta(dataset_dir: str | Path) -> DatasetMeta:
    path = Path(dataset_dir) / META_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: expected the dataset's meta.json (is datasetUri a dataset folder?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path} is not readable JSON: {err}") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{path} must hold a JSON object")
    meta = DatasetMeta(
        digest=_field(raw, path, "digest", str),
        name=_field(raw, path, "name", str),
        source=_field(raw, path, "source", str),
        feature_names=_string_list(raw, path, "featureNames"),
        label_name=_field(raw, path, "labelName", str),
        classes=_string_list(raw, path, "classes"),
        n_rows=_field(raw, path, "nRows", int),
        n_features=_field(raw, path, "nFeatures", int),
    )
    if meta.n_rows < 1 or meta.n_features < 1:
        raise DatasetError(f"{path}: nRows and nFeatures must be >= 1 (got {meta.n_rows} and {meta.n_features})")
    if len(meta.feature_names) != meta.n_features:
        raise DatasetError(f"{path}: featureNames has {len(meta.feature_names)} names for nFeatures = {meta.n_features}")
    return meta


def _map(path: Path, dtype: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: expected {what} ({expected} bytes)") from None
    if size != expected:
        raise DatasetError(f"{path} has {size} bytes, expected {what} ({expected} bytes)")
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


def open_dataset(dataset_dir: str | Path) -> Dataset:
    """Maps the arrays without reading them: only the rows a split names are ever paged in."""
    d = Path(dataset_dir)
    meta = read_meta(d)
    n, f = meta.n_rows, meta.n_features
    x = _map(d / X_FILE, "<f8", (n, f), f"{n} rows x {f} features of little-endian float64")
    y = _map(d / Y_FILE, "<i4", (n,), f"{n} little-endian int32 labels")
    return Dataset(dir=d, meta=meta, x=x, y=y)


def read_indices(path: str | Path, n_rows: int) -> np.ndarray:
    """A split: uint32 row indices, each < n_rows; at least one."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{p} is missing: expected a split of little-endian uint32 row indices") from None
    if len(raw) == 0 or len(raw) % 4:
        raise DatasetError(f"{p} has {len(raw)} bytes, expected a positive multiple of 4 (little-endian uint32 row indices)")
    idx = np.frombuffer(raw, dtype="<u4")
    top = int(idx.max())
    if top >= n_rows:
        raise DatasetError(f"{p} names row {top}, but the dataset has {n_rows} rows")
    return idx


def gather(ds: Dataset, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The named rows as float32 features and int64 labels, in the split's order."""
    n_classes = len(ds.meta.classes)
    x = np.empty((len(indices), ds.meta.n_features), dtype=np.float32)
    y = np.empty(len(indices), dtype=np.int64)
    chunk = max(1, _GATHER_CHUNK_BYTES // (8 * ds.meta.n_features))
    for start in range(0, len(indices), chunk):
        sel = indices[start : start + chunk]
        part = x[start : start + len(sel)]
        with np.errstate(over="ignore"):  # reported just below, with the row and feature
            part[:] = ds.x[sel]
        y[start : start + len(sel)] = ds.y[sel]
        finite = np.isfinite(part)
        if not finite.all():
            # float64 values beyond float32's range become inf here, which training could not use either.
            row, col = (int(v) for v in np.argwhere(~finite)[0])
            raise DatasetError(f"{ds.dir / X_FILE}: row {int(sel[row])} feature {ds.meta.feature_names[col]!r} is not a finite float32")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise DatasetError(f"{ds.dir / Y_FILE}: labels must be class indices 0..{n_classes - 1} (found {int(y.min())}..{int(y.max())})")
    return x, y
