"""The shared file store (the TypeScript side's datasets/file-store.ts and lib/store/): files a worker
writes under its data folder are published to MLflow's artifact proxy, and a worker that misses a file
locally fetches it by name into its own folder, checked against its sha256. So the PyTorch pool needs
no disk shared with the TypeScript pools. Standard library only (urllib): no client package to pin."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STORE_ROOT = "flywheel-store"
_SEGMENT = re.compile(r"^[A-Za-z0-9._=+-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The shared parts of any worker's data folder (leftmost match wins, as on the TypeScript side).
_SHARED_FILE = re.compile(r"(?:^|/)((?:datasets/[0-9a-f]{64}|artifacts|checkpoints)/.+)$")
DATASET_FILES = ("x.f64", "y.i32", "meta.json")  # meta.json last: its presence means the rest is there
TIMEOUT_SECONDS = 60


class StoreMiss(LookupError):
    """Nobody published the file (or it names nothing the store shares)."""


class StoreError(RuntimeError):
    """The store answered, but not with what its ref promised."""


def check_name(name: str) -> str:
    parts = name.split("/")
    if not parts or any(not _SEGMENT.match(p) or p in (".", "..") for p in parts):
        raise ValueError(f"store name {name!r} must be /-separated segments of letters, digits and ._=+-")
    return name


def blob_key(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"blob key needs a sha256 in hex (got {sha256!r})")
    return f"sha256/{sha256}"


def ref_key(name: str) -> str:
    return f"refs/{check_name(name)}.json"


def name_under(data_dir: Path, file: Path) -> str | None:
    try:
        rel = Path(os.path.abspath(file)).relative_to(Path(os.path.abspath(data_dir)))
    except ValueError:
        return None
    return check_name(rel.as_posix()) if rel.parts else None


def shared_name_of(file: str | Path) -> str | None:
    m = _SHARED_FILE.search(Path(file).as_posix())
    return check_name(m.group(1)) if m else None


def store_name_of(data_dir: Path, file: str | Path) -> str | None:
    return name_under(data_dir, Path(file)) or shared_name_of(file)


def cache_path(data_dir: Path, name: str) -> Path:
    return Path(os.path.abspath(data_dir)).joinpath(*check_name(name).split("/"))


def ref_of(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def parse_ref(name: str, raw: bytes) -> dict[str, object]:
    try:
        ref = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StoreError(f"store ref of {name} is not JSON: {err}") from None
    ok = (
        isinstance(ref, dict)
        and isinstance(ref.get("sha256"), str)
        and _SHA256.match(ref["sha256"]) is not None
        and isinstance(ref.get("size"), int)
        and not isinstance(ref.get("size"), bool)
        and ref["size"] >= 0
    )
    if not ok:
        raise StoreError(f"store ref of {name} is malformed: {raw[:200]!r}")
    return ref


def check_blob(name: str, ref: Mapping[str, object], data: bytes) -> None:
    if len(data) != ref["size"]:
        raise StoreError(f"store blob of {name} has {len(data)} bytes, its ref says {ref['size']}")
    got = hashlib.sha256(data).hexdigest()
    if got != ref["sha256"]:
        raise StoreError(f"store blob of {name} has sha256 {got}, its ref says {ref['sha256']}")


@dataclass(frozen=True)
class ArtifactTransport:
    """PUT and GET under MLflow's artifact proxy, with the login the TypeScript side uses."""

    tracking_uri: str
    authorization: str | None = None

    def _url(self, key: str) -> str:
        path = "/".join(urllib.parse.quote(p, safe="") for p in f"{STORE_ROOT}/{key}".split("/"))
        return f"{self.tracking_uri.rstrip('/')}/api/2.0/mlflow-artifacts/artifacts/{path}"

    def _request(self, key: str, method: str, data: bytes | None = None) -> urllib.request.Request:
        req = urllib.request.Request(self._url(key), data=data, method=method)
        if self.authorization:
            req.add_header("Authorization", self.authorization)
        if data is not None:
            req.add_header("Content-Type", "application/octet-stream")
        return req

    def get(self, key: str) -> bytes:
        try:
            with urllib.request.urlopen(self._request(key, "GET"), timeout=TIMEOUT_SECONDS) as res:
                return res.read()
        except urllib.error.HTTPError as err:
            if err.code == 404:
                raise StoreMiss(f"{key} is not in the shared store ({STORE_ROOT} at {self.tracking_uri})") from None
            raise StoreError(f"GET {key} from the shared store failed ({err.code}): {err.read()[:300]!r}") from None

    def put(self, key: str, data: bytes) -> None:
        try:
            with urllib.request.urlopen(self._request(key, "PUT", data), timeout=TIMEOUT_SECONDS):
                pass
        except urllib.error.HTTPError as err:
            raise StoreError(f"PUT {key} to the shared store failed ({err.code}): {err.read()[:300]!r}") from None


@dataclass(frozen=True)
class FileStore:
    """This worker's data folder as a cache of the shared store. Plain data: it crosses into training processes."""

    data_dir: Path
    # None: no shared store (one host, or a unit test): publishing does nothing, a miss is a miss.
    transport: ArtifactTransport | None
    # Whether another folder's path, visible here, may be read when the store lacks it (old histories did).
    foreign_paths: bool = True

    def publish(self, file: str | Path) -> None:
        if self.transport is None:
            return
        name = name_under(self.data_dir, Path(file))
        if name is None:
            raise ValueError(f"cannot publish {file}: it is not under this worker's data folder {self.data_dir}")
        data = Path(file).read_bytes()
        ref = ref_of(data)
        try:
            if parse_ref(name, self.transport.get(ref_key(name)))["sha256"] == ref["sha256"]:
                return  # already published (a retry)
        except (StoreMiss, StoreError):
            pass
        self.transport.put(blob_key(str(ref["sha256"])), data)
        self.transport.put(ref_key(name), json.dumps(ref).encode())

    def local(self, file: str | Path) -> Path:
        """A local path for a file named by any worker's path: this folder's copy, fetched on a miss
        (written aside and renamed into place); when nobody published it, the path itself if it exists
        here (a history from before the store)."""
        name = store_name_of(self.data_dir, file)
        visible = self.foreign_paths and Path(file).exists()
        if name is None:
            if visible:
                return Path(file)
            raise StoreMiss(f"{file} is not on this host and names no file of the shared store")
        local = cache_path(self.data_dir, name)
        if local.exists():
            return local
        try:
            return self._fetch(name, local)
        except StoreMiss:
            if visible:
                return Path(file)
            raise

    def _fetch(self, name: str, local: Path) -> Path:
        if self.transport is None:
            raise StoreMiss(f"{name} is not on this host, and this worker has no shared store")
        ref = parse_ref(name, self.transport.get(ref_key(name)))
        data = self.transport.get(blob_key(str(ref["sha256"])))
        check_blob(name, ref, data)
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f"{local.name}.tmp-{uuid.uuid4().hex}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, local)
        finally:
            tmp.unlink(missing_ok=True)
        return local

    def local_dataset(self, dataset_dir: str | Path) -> Path:
        local = Path(dataset_dir)
        for f in DATASET_FILES:
            local = self.local(Path(dataset_dir) / f).parent
        return local


def mlflow_authorization(env: Mapping[str, str], data_dir: Path, tracking_uri: str) -> str | None:
    """The header config/index.ts sends: MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME/PASSWORD,
    or (a loopback server on MLFLOW_PORT) the local stack's login in <data>/credentials/mlflow.json."""
    token = env.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return f"Bearer {token}"
    user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    u = urllib.parse.urlsplit(tracking_uri)
    port = u.port or (443 if u.scheme == "https" else 80)
    if u.hostname not in ("127.0.0.1", "localhost", "::1") or str(port) != env.get("MLFLOW_PORT", "5000"):
        return None
    try:
        login = json.loads((data_dir / "credentials" / "mlflow.json").read_text(encoding="utf-8"))
        return "Basic " + base64.b64encode(f"{login['user']}:{login['password']}".encode()).decode()
    except (OSError, ValueError, KeyError, TypeError):
        return None
