from pathlib import Path

import numpy as np
import pytest

from flywheel_gpu_worker.datasets import DatasetError, gather, open_dataset, read_indices

from .conftest import write_split, write_store


def test_round_trip(tmp_path: Path) -> None:
    x = np.arange(24, dtype=np.float64).reshape(6, 4) / 3
    y = np.array([0, 1, 2, 0, 1, 2], dtype=np.int32)
    d = write_store(tmp_path, x, y, classes=["a", "b", "c"])
    ds = open_dataset(d)
    assert ds.meta.n_rows == 6 and ds.meta.n_features == 4 and ds.meta.classes == ["a", "b", "c"]
    assert ds.meta.feature_names == ["f0", "f1", "f2", "f3"] and ds.meta.digest == "sha256-test"
    idx = read_indices(write_split(tmp_path / "s.u32", [5, 0, 3]), ds.meta.n_rows)
    assert idx.tolist() == [5, 0, 3]
    xs, ys = gather(ds, idx)
    assert xs.dtype == np.float32 and ys.dtype == np.int64
    np.testing.assert_array_equal(xs, x[[5, 0, 3]].astype(np.float32))
    assert ys.tolist() == [2, 0, 0]


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"meta.json is missing"):
        open_dataset(tmp_path / "nowhere")
    d = write_store(tmp_path, np.zeros((3, 2)), np.array([0, 1, 0]))
    (d / "y.i32").unlink()
    with pytest.raises(DatasetError, match=r"y.i32 is missing: expected 3 little-endian int32 labels \(12 bytes\)"):
        open_dataset(d)
    with pytest.raises(DatasetError, match=r"split of little-endian uint32 row indices"):
        read_indices(tmp_path / "none.u32", 3)


def test_short_files(tmp_path: Path) -> None:
    d = write_store(tmp_path, np.zeros((3, 2)), np.array([0, 1, 0]))
    (d / "x.f64").write_bytes(b"\0" * 40)
    with pytest.raises(DatasetError, match=r"x.f64 has 40 bytes, expected 3 rows x 2 features of little-endian float64 \(48 bytes\)"):
        open_dataset(d)
    (tmp_path / "odd.u32").write_bytes(b"\0" * 6)
    with pytest.raises(DatasetError, match=r"odd.u32 has 6 bytes, expected a positive multiple of 4"):
        read_indices(tmp_path / "odd.u32", 3)


def test_bad_contents(tmp_path: Path) -> None:
    d = write_store(tmp_path, np.zeros((3, 2)), np.array([0, 1, 0]))
    with pytest.raises(DatasetError, match=r"names row 7, but the dataset has 3 rows"):
        read_indices(write_split(tmp_path / "s.u32", [0, 7]), 3)
    (d / "meta.json").write_text('{"digest": "x"}')
    with pytest.raises(DatasetError, match=r"field 'name' must be a str"):
        open_dataset(d)


def test_labels_and_values_checked(tmp_path: Path) -> None:
    d = write_store(tmp_path, np.array([[0.0, 1.0], [1e300, 2.0]]), np.array([0, 1]), classes=["a", "b"])
    ds = open_dataset(d)
    with pytest.raises(DatasetError, match=r"row 1 feature 'f0' is not a finite float32"):
        gather(ds, np.array([0, 1], dtype=np.uint32))
    d2 = write_store(tmp_path / "b", np.zeros((2, 2)), np.array([0, 5]), classes=["a", "b"])
    with pytest.raises(DatasetError, match=r"labels must be class indices 0..1 \(found 0..5\)"):
        gather(open_dataset(d2), np.array([0, 1], dtype=np.uint32))
