"""The shared file store's Python half: names and checks agree with lib/store/ (TypeScript), and a file
published from one data folder is fetched, verified, into another through the real MLflow when the
local stack is up (MLFLOW_TRACKING_URI and FLYWHEEL_DATA_DIR of a running `flywheel up`)."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from flywheel_gpu_worker.store import (
    ArtifactTransport,
    FileStore,
    StoreError,
    StoreMiss,
    blob_key,
    cache_path,
    check_blob,
    check_name,
    mlflow_authorization,
    name_under,
    parse_ref,
    ref_key,
    ref_of,
    shared_name_of,
    store_name_of,
)

D = "a" * 64


def test_names_match_the_typescript_side() -> None:
    assert blob_key(D) == f"sha256/{D}"
    assert ref_key(f"datasets/{D}/x.f64") == f"refs/datasets/{D}/x.f64.json"
    assert name_under(Path("/data/gpu"), Path("/data/gpu/artifacts/wf/run/model.onnx")) == "artifacts/wf/run/model.onnx"
    assert name_under(Path("/data/gpu"), Path("/data/cpu/x")) is None
    assert shared_name_of(f"/elsewhere/datasets/{D}/splits/seed1-holdout0.2/train.u32") == f"datasets/{D}/splits/seed1-holdout0.2/train.u32"
    assert shared_name_of("/x/checkpoints/wf/run/a/checkpoint.pt") == "checkpoints/wf/run/a/checkpoint.pt"
    assert shared_name_of(f"/x/datasets/{D[1:]}/x.f64") is None
    assert store_name_of(Path("/mine"), f"/theirs/datasets/{D}/meta.json") == f"datasets/{D}/meta.json"
    assert cache_path(Path("/data/gpu"), f"datasets/{D}/y.i32") == Path(f"/data/gpu/datasets/{D}/y.i32")


def test_names_that_could_leave_the_data_folder_are_refused() -> None:
    for bad in ("datasets/../../etc/passwd", "a//b", "/abs"):
        with pytest.raises(ValueError, match="segments"):
            check_name(bad)
    with pytest.raises(ValueError, match="sha256"):
        blob_key("abc")


def test_a_blob_is_trusted_only_if_it_is_the_one_its_ref_names() -> None:
    ref = ref_of(b"hello\n")
    assert ref == {"sha256": "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", "size": 6}
    check_blob("n", ref, b"hello\n")
    with pytest.raises(StoreError, match="its ref says"):
        check_blob("n", ref, b"hellO\n")
    with pytest.raises(StoreError, match="5 bytes, its ref says 6"):
        check_blob("n", ref, b"hello")
    assert parse_ref("n", json.dumps(ref).encode()) == ref
    for raw in (b"{", b'{"sha256": "zz", "size": 1}', json.dumps({"sha256": D, "size": -1}).encode()):
        with pytest.raises(StoreError):
            parse_ref("n", raw)


def test_authorization_follows_config_index_ts(tmp_path: Path) -> None:
    assert mlflow_authorization({"MLFLOW_TRACKING_TOKEN": "t"}, tmp_path, "http://mlflow:5000") == "Bearer t"
    basic = mlflow_authorization({"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"}, tmp_path, "http://mlflow:5000")
    assert basic == "Basic dTpw"
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "mlflow.json").write_text(json.dumps({"user": "u", "password": "p"}))
    assert mlflow_authorization({"MLFLOW_PORT": "5400"}, tmp_path, "http://127.0.0.1:5400") == "Basic dTpw"
    # The local login goes only to the local server, never to another host.
    assert mlflow_authorization({"MLFLOW_PORT": "5400"}, tmp_path, "http://mlflow.example:5400") is None


def test_a_path_that_exists_is_used_as_it_is_unless_isolated(tmp_path: Path) -> None:
    f = tmp_path / "old-host-path" / "model.onnx"  # names no shared file: no request is made
    f.parent.mkdir()
    f.write_bytes(b"x")
    store = FileStore(tmp_path / "mine", ArtifactTransport("http://127.0.0.1:9"))
    assert store.local(f) == f
    with pytest.raises(StoreMiss):
        FileStore(tmp_path / "mine", None, foreign_paths=False).local(f)


def _live_stack() -> FileStore | None:
    uri, data = os.environ.get("MLFLOW_TRACKING_URI"), os.environ.get("FLYWHEEL_DATA_DIR")
    if not uri or not data:
        return None
    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=2).close()
    except OSError:
        return None
    return FileStore(Path(data), ArtifactTransport(uri, mlflow_authorization(os.environ, Path(data), uri)))


def test_a_file_published_from_one_folder_is_fetched_and_verified_into_another(tmp_path: Path) -> None:
    live = _live_stack()
    if live is None:
        pytest.skip("needs the local stack (MLFLOW_TRACKING_URI and FLYWHEEL_DATA_DIR of `flywheel up`)")
    assert live.transport is not None
    writer = FileStore(tmp_path / "writer", live.transport)
    reader = FileStore(tmp_path / "reader", live.transport)
    digest = os.urandom(32).hex()
    src = writer.data_dir / "datasets" / digest / "x.f64"
    src.parent.mkdir(parents=True)
    src.write_bytes(os.urandom(4096))
    writer.publish(src)
    writer.publish(src)  # a retry: the ref is already there

    got = reader.local(src)  # the writer's path: published, so fetched into the reader's own folder
    assert got == reader.data_dir / "datasets" / digest / "x.f64"
    assert got.read_bytes() == src.read_bytes()
    assert not [p for p in got.parent.iterdir() if ".tmp-" in p.name]

    with pytest.raises(StoreMiss):
        reader.local(writer.data_dir / "datasets" / os.urandom(32).hex() / "x.f64")
