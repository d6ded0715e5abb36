"""Environment configuration. The variable names are shared with the TypeScript side (config/index.ts),
so one environment file can drive both workers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store import mlflow_authorization

LOG_LEVELS = ("debug", "info", "warn", "error")

# The repository root's .flywheel, as the TypeScript side resolves it; an installed wheel has no
# repository around it, which is why Docker sets FLYWHEEL_DATA_DIR explicitly.
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".flywheel"


class ConfigError(ValueError):
    """One line naming the variable, its accepted values and what it was."""


@dataclass(frozen=True)
class Config:
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue_gpu: str = "flywheel-gpu"
    task_queue_cpu_torch: str = "flywheel-cpu-torch"
    data_dir: Path = DEFAULT_DATA_DIR
    # None: one per CUDA device, or 1 on the CPU (decided once the device is known).
    max_concurrent_activities: int | None = None
    # 0 turns the Prometheus endpoint off (tests run several workers side by side).
    metrics_port: int = 9466
    # Not shared with the TypeScript side: in a container the endpoint must listen beyond loopback.
    metrics_host: str = "127.0.0.1"
    log_level: str = "info"
    # After SIGTERM/SIGINT: how long in-flight activities get before the SDK cancels them. Shared
    # with the TypeScript workers (FLYWHEEL_SHUTDOWN_GRACE_SECONDS), so one setting drains every pool.
    shutdown_grace_seconds: int = 30
    # TLS to the Temporal frontend: the same variables as the TypeScript side (config/index.ts).
    # None: plain text; otherwise the PEM paths (each may be None: system roots, no client cert).
    temporal_tls: TemporalTls | None = None
    # Temporal Cloud API key (TEMPORAL_API_KEY); implies TLS.
    temporal_api_key: str | None = None
    # MLflow's artifact proxy holds the shared file store (store.py); the same variables as config/index.ts.
    # None (a Config built in code, as unit tests do): no store, the data folder alone.
    mlflow_tracking_uri: str | None = None
    # The Authorization header value for it (never printed).
    mlflow_authorization: str | None = field(default=None, repr=False)
    # False (FLYWHEEL_FILE_STORE=mlflow-isolated): never read another folder's path even when visible.
    foreign_paths: bool = True

    def task_queue(self, device_type: str) -> str:
        # A worker without a GPU polls its own queue and never takes GPU-queue work: falling back to
        # the CPU is the workflow's decision, not the worker's.
        return self.task_queue_gpu if device_type == "cuda" else self.task_queue_cpu_torch


@dataclass(frozen=True)
class TemporalTls:
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ConfigError(f"{name} must not be empty")
    return value


def _temporal_tls(env: Mapping[str, str]) -> tuple[TemporalTls | None, str | None]:
    switch = _optional(env, "TEMPORAL_TLS")
    if switch is not None and switch not in ("on", "off"):
        raise ConfigError(f"TEMPORAL_TLS must be one of on|off (got {switch!r})")
    ca, cert, key = (_optional(env, f"TEMPORAL_TLS_{n}") for n in ("CA", "CERT", "KEY"))
    server_name = _optional(env, "TEMPORAL_TLS_SERVER_NAME")
    api_key = _optional(env, "TEMPORAL_API_KEY")
    if (cert is None) != (key is None):
        raise ConfigError("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: a client certificate needs its key (set both or neither)")
    configured = ca is not None or cert is not None or server_name is not None or api_key is not None
    if switch == "off" and configured:
        raise ConfigError("TEMPORAL_TLS: off, but TEMPORAL_TLS_* or TEMPORAL_API_KEY is set (an API key is never sent in clear text)")
    if switch != "on" and not configured:
        return None, None
    return TemporalTls(ca=_path(ca), cert=_path(cert), key=_path(key), server_name=server_name), api_key


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser().resolve() if value is not None else None


def _read_pem(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ConfigError(f"{variable}: cannot read {path} ({err.strerror})") from None


def temporal_connect_options(config: Config) -> dict[str, Any]:
    """The `tls` and `api_key` keyword arguments of `Client.connect`, with the PEM files read now
    (a rotated certificate is picked up by the next connection)."""
    from temporalio.service import TLSConfig

    tls = config.temporal_tls
    if tls is None:
        return {}
    options: dict[str, Any] = {
        "tls": TLSConfig(
            server_root_ca_cert=_read_pem(tls.ca, "TEMPORAL_TLS_CA") if tls.ca else None,
            client_cert=_read_pem(tls.cert, "TEMPORAL_TLS_CERT") if tls.cert else None,
            client_private_key=_read_pem(tls.key, "TEMPORAL_TLS_KEY") if tls.key else None,
            domain=tls.server_name,
        )
    }
    if config.temporal_api_key is not None:
        options["api_key"] = config.temporal_api_key
    return options


def _string(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    if value is None:
        return default
    value = value.strip()
    if not value:
        raise ConfigError(f"{name} must not be empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise ConfigError(f"{name} must be an integer >= {lo} and <= {hi} (got {raw!r})") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be an integer >= {lo} and <= {hi} (got {value})")
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Reads and validates the environment; raises ConfigError naming the first bad variable."""
    env = os.environ if env is None else env

    address = _string(env, "TEMPORAL_ADDRESS", Config.temporal_address)
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"TEMPORAL_ADDRESS must be host:port (got {address!r})")

    level = _string(env, "FLYWHEEL_LOG_LEVEL", Config.log_level).lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"FLYWHEEL_LOG_LEVEL must be one of {'|'.join(LOG_LEVELS)} (got {level!r})")

    data_dir_raw = env.get("FLYWHEEL_DATA_DIR")
    if data_dir_raw is not None and not data_dir_raw.strip():
        raise ConfigError("FLYWHEEL_DATA_DIR must not be empty")
    data_dir = Path(data_dir_raw).expanduser().resolve() if data_dir_raw else DEFAULT_DATA_DIR

    metrics_port = _int(env, "FLYWHEEL_GPU_WORKER_METRICS_PORT", Config.metrics_port, 0, 65535)
    assert metrics_port is not None
    temporal_tls, temporal_api_key = _temporal_tls(env)
    file_store = _string(env, "FLYWHEEL_FILE_STORE", "mlflow")
    if file_store not in ("mlflow", "mlflow-isolated", "off"):
        raise ConfigError(f"FLYWHEEL_FILE_STORE must be one of mlflow|mlflow-isolated|off (got {file_store!r})")
    tracking_uri = _string(env, "MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    if not tracking_uri.startswith(("http://", "https://")):
        raise ConfigError(f"MLFLOW_TRACKING_URI must be an http(s) URL (got {tracking_uri!r})")
    return Config(
        temporal_address=address,
        temporal_namespace=_string(env, "TEMPORAL_NAMESPACE", Config.temporal_namespace),
        task_queue_gpu=_string(env, "FLYWHEEL_TASK_QUEUE_GPU", Config.task_queue_gpu),
        task_queue_cpu_torch=_string(env, "FLYWHEEL_TASK_QUEUE_CPU_TORCH", Config.task_queue_cpu_torch),
        data_dir=data_dir,
        max_concurrent_activities=_int(env, "FLYWHEEL_GPU_MAX_CONCURRENT_ACTIVITIES", None, 1, 64),
        metrics_port=metrics_port,
        metrics_host=_string(env, "FLYWHEEL_GPU_WORKER_METRICS_HOST", env.get("FLYWHEEL_METRICS_HOST") or Config.metrics_host),
        log_level=level,
        shutdown_grace_seconds=_int(env, "FLYWHEEL_SHUTDOWN_GRACE_SECONDS", Config.shutdown_grace_seconds, 0, 3600) or 0,
        temporal_tls=temporal_tls,
        temporal_api_key=temporal_api_key,
        # off: one host, the data folder alone (FLYWHEEL_FILE_STORE, as on the TypeScript side).
        mlflow_tracking_uri=tracking_uri if file_store != "off" else None,
        foreign_paths=file_store != "mlflow-isolated",
        mlflow_authorization=mlflow_authorization(env, data_dir, tracking_uri),
    )
