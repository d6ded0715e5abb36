"""The Temporal activity `trainNeuralModel`, called by name from the TypeScript workflows
(workflows/torch-training.ts). A sync activity run in the worker's thread pool: training holds the
GIL only between kernels, so the event loop keeps heartbeating and receiving cancellation.

Retries are the normal path, not the exceptional one: a GPU attempt whose worker dies times out on
its heartbeat and the workflow may retry it, possibly on the CPU queue under another activity id.
Everything an attempt leaves behind is therefore keyed by the workflow run (not the activity), and
written atomically: the checkpoint after every epoch and the ONNX file at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, CancelledError

from .checkpoint import load_checkpoint, save_checkpoint, write_atomic
from .config import Config
from .datasets import DatasetError, gather, open_dataset, read_indices
from .devices import DevicePool
from .hyperparameters import HyperparameterError, Hyperparameters, parse_hyperparameters
from .onnx_export import PARITY_ROWS, ExportError, ParityError, build_onnx, check_parity, own_metadata
from .trainer import EpochRecord, Progress, TrainingDiverged, bf16_supported, build_model, describe_devices, train

log = logging.getLogger(__name__)

ACTIVITY_NAME = "trainNeuralModel"
INVALID_INPUT = "InvalidInput"
EXPORT_PARITY_ERROR = "ExportParityError"
WORKER_SHUTDOWN = "WorkerShutdown"
# Bump when the checkpoint layout changes: an old one then no longer matches and is ignored.
CHECKPOINT_FORMAT = 1
# Heartbeats (and cancellation checks) inside an epoch; the workflow's heartbeat timeout is 20 s.
TICK_SECONDS = 1.0
# At most one progress signal a second: each is a workflow task on the caller's side.
SIGNAL_INTERVAL_SECONDS = 1.0


def safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", s)


class RequestError(ValueError):
    """A malformed activity input, named by field."""


def invalid_input(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_INPUT, non_retryable=True)


@dataclass(frozen=True)
class TrainRequest:
    dataset_uri: str
    train_uri: str
    valid_uri: str | None
    hyperparameters: Hyperparameters
    metadata: dict[str, str]
    progress_signal: str | None
    checkpoint_name: str


def _string(raw: Mapping[str, Any], key: str, *, optional: bool = False, default: str | None = None) -> str | None:
    value = raw.get(key)
    if value is None:
        if optional:
            return default
        raise RequestError(f"input field {key} is required (a non-empty string)")
    if not isinstance(value, str) or not value:
        raise RequestError(f"input field {key} must be a non-empty string (got {value!r})")
    return value


def parse_request(raw: Any) -> TrainRequest:
    """Raises RequestError or HyperparameterError (both InvalidInput) naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise RequestError(f"{ACTIVITY_NAME} takes one JSON object (got {type(raw).__name__})")
    family = raw.get("family")
    if family != "mlp":
        raise RequestError(f"family {family!r} is not trained by the PyTorch pool (it trains 'mlp')")
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise RequestError("input field metadata must map strings to strings")
    return TrainRequest(
        dataset_uri=_string(raw, "datasetUri"),  # type: ignore[arg-type]
        train_uri=_string(raw, "trainUri"),  # type: ignore[arg-type]
        valid_uri=_string(raw, "validUri", optional=True),
        hyperparameters=parse_hyperparameters(raw.get("hyperparameters")),
        metadata=dict(metadata),
        progress_signal=_string(raw, "progressSignal", optional=True),
        checkpoint_name=_string(raw, "checkpointName", optional=True, default="train"),  # type: ignore[arg-type]
    )


class TrainActivities:
    def __init__(
        self,
        config: Config,
        devices: DevicePool,
        client: Client | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.config = config
        self.devices = devices
        self.client = client
        # The worker's event loop: the client's signal coroutine must run there, not in this thread.
        self.loop = loop

    @activity.defn(name=ACTIVITY_NAME, no_thread_cancel_exception=True)
    def train_neural_model(self, request: dict[str, Any]) -> dict[str, Any]:
        # no_thread_cancel_exception: cancellation is checked between steps, so it never lands in the
        # middle of a checkpoint write or a CUDA graph replay.
        try:
            req = parse_request(request)
        except (RequestError, HyperparameterError) as err:
            raise invalid_input(str(err)) from None
        with self.devices.lease() as devices:
            try:
                return self._run(req, devices)
            except (HyperparameterError, DatasetError, ExportError) as err:
                raise invalid_input(str(err)) from None
            except TrainingDiverged as err:
                raise invalid_input(str(err)) from None
            except ParityError as err:
                raise ApplicationError(str(err), type=EXPORT_PARITY_ERROR, non_retryable=True) from None

    def _paths(self, checkpoint_name: str) -> tuple[Path, Path]:
        info = activity.info()
        if not info.workflow_id or not info.workflow_run_id:
            raise invalid_input(f"{ACTIVITY_NAME} must be called from a workflow (no workflow id in its context)")
        run = Path(safe(info.workflow_id)) / safe(info.workflow_run_id)
        data = self.config.data_dir
        return (
            data / "artifacts" / run / "model.onnx",
            data / "checkpoints" / run / safe(checkpoint_name) / "checkpoint.pt",
        )

    def _run(self, req: TrainRequest, devices: list[Any]) -> dict[str, Any]:
        hp = req.hyperparameters
        onnx_path, ckpt_path = self._paths(req.checkpoint_name)
        ds = open_dataset(req.dataset_uri)
        meta = ds.meta
        if len(meta.classes) < 2:
            raise DatasetError(f"{req.dataset_uri}: a classifier needs at least two classes (got {meta.classes})")
        train_idx = read_indices(req.train_uri, meta.n_rows)
        valid_idx = read_indices(req.valid_uri, meta.n_rows) if req.valid_uri else None
        # Checked now rather than after hours of training.
        own_metadata(meta.n_features, meta.classes, hp.hidden_units, hp.hidden_layers, req.metadata)

        fingerprint = {
            "format": CHECKPOINT_FORMAT,
            "family": "mlp",
            "hyperparameters": hp.to_json(),
            "datasetDigest": meta.digest,
            "nFeatures": meta.n_features,
            "classes": list(meta.classes),
            "trainRows": int(len(train_idx)),
            "trainSha256": hashlib.sha256(train_idx.tobytes()).hexdigest(),
        }
        state = self._load_matching(ckpt_path, fingerprint, devices[0])
        progress = _Progress(self, req, hp.epochs)

        if state is not None and int(state["epoch"]) >= hp.epochs:
            # A retry after the last epoch's checkpoint (e.g. the export failed or the worker died
            # during it): no more training, only the export.
            model = build_model(meta.n_features, len(meta.classes), hp, state)
            history = [EpochRecord.from_json(r) for r in state["history"]]
            parity_x, _ = gather(ds, train_idx[:PARITY_ROWS])
            resumed, epochs_run, seconds = int(state["epoch"]), 0, 0.0
            device, precision, graphs = describe_devices(devices), _precision(devices), False
            progress.heartbeat({"epoch": resumed, "epochs": hp.epochs, "loss": history[-1].loss if history else None})
        else:
            x, y = gather(ds, train_idx)
            valid = gather(ds, valid_idx) if valid_idx is not None else None
            if state is not None:
                progress.heartbeat({"epoch": int(state["epoch"]), "epochs": hp.epochs})

            def on_epoch(record: EpochRecord, snapshot: Any) -> None:
                save_checkpoint(ckpt_path, {"fingerprint": fingerprint, "state": snapshot()})
                progress.epoch_done(record)

            result = train(
                x,
                y,
                len(meta.classes),
                hp,
                devices=devices,
                valid=valid,
                resume=state,
                on_epoch=on_epoch,
                on_tick=progress.tick,
                tick_seconds=TICK_SECONDS,
            )
            model, history = result.model, result.history
            parity_x = x
            resumed, epochs_run, seconds = result.resumed_from_epoch, result.epochs_run, result.seconds
            device, precision, graphs = result.device, result.precision, result.cuda_graphs

        proto = build_onnx(model, list(meta.classes), req.metadata)
        data = proto.SerializeToString()
        parity = check_parity(data, model, parity_x)
        write_atomic(onnx_path, data)
        rows = int(len(train_idx))
        out = {
            "onnxUri": str(onnx_path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "sizeBytes": len(data),
            "epochs": [r.to_json() for r in history],
            "trainRows": rows,
            "trainSeconds": seconds,
            "samplesPerSecond": rows * epochs_run / seconds if seconds > 0 else 0.0,
            "resumedFromEpoch": resumed,
            "device": device,
            "precision": precision,
            "cudaGraphs": graphs,
            "parity": parity.to_json(),
        }
        log.info(
            "trained",
            extra={
                "fields": {
                    k: out[k]
                    for k in (
                        "onnxUri",
                        "trainRows",
                        "trainSeconds",
                        "samplesPerSecond",
                        "resumedFromEpoch",
                        "device",
                        "precision",
                        "cudaGraphs",
                    )
                }
            },
        )
        return out

    def _load_matching(self, path: Path, fingerprint: dict[str, Any], device: Any) -> dict[str, Any] | None:
        try:
            ckpt = load_checkpoint(path, map_location=device)
        except Exception as err:  # noqa: BLE001 - an unreadable checkpoint costs a restart, not the run
            log.warning("ignoring an unreadable checkpoint", extra={"fields": {"path": str(path), "error": repr(err)}})
            return None
        if ckpt is None:
            return None
        if not isinstance(ckpt, dict) or ckpt.get("fingerprint") != fingerprint:
            log.warning("ignoring a checkpoint of other hyperparameters or data; starting over", extra={"fields": {"path": str(path)}})
            return None
        state = ckpt["state"]
        log.info("resuming", extra={"fields": {"path": str(path), "epoch": int(state["epoch"])}})
        return state

    def send_signal(self, name: str, payload: dict[str, Any]) -> None:
        """Best effort and fire-and-forget: a lost progress update must never fail or slow training."""
        if self.client is None or self.loop is None or self.loop.is_closed():
            return
        info = activity.info()
        if not info.workflow_id:
            return
        try:
            handle = self.client.get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)
            coro = handle.signal(name, payload)
        except Exception as err:  # noqa: BLE001
            log.debug("progress signal not sent", extra={"fields": {"error": repr(err)}})
            return
        try:
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError as err:  # the loop stopped (worker shutting down)
            coro.close()
            log.debug("progress signal not sent", extra={"fields": {"error": repr(err)}})
            return

        def done(f: Any) -> None:
            if not f.cancelled() and f.exception() is not None:
                log.debug("progress signal failed", extra={"fields": {"signal": name, "error": repr(f.exception())}})

        future.add_done_callback(done)


def _precision(devices: list[Any]) -> str:
    return "bf16" if bf16_supported(devices[0]) else "fp32"


class _Progress:
    """Heartbeats, cancellation checks and progress signals for one attempt."""

    def __init__(self, acts: TrainActivities, req: TrainRequest, epochs: int) -> None:
        self.acts = acts
        self.signal = req.progress_signal
        self.epochs = epochs
        self.last_signal = -float("inf")

    def heartbeat(self, details: dict[str, Any]) -> None:
        activity.heartbeat({k: v for k, v in details.items() if v is not None})

    def check_stop(self, where: str) -> None:
        if activity.is_cancelled():
            # The last epoch's checkpoint stays, for a later attempt or run to resume from.
            raise CancelledError(f"training cancelled {where}")
        if activity.is_worker_shutdown():
            # Retryable: another worker resumes from the last epoch's checkpoint.
            raise ApplicationError(f"the worker is shutting down; training stopped {where}", type=WORKER_SHUTDOWN)

    def tick(self, p: Progress) -> None:
        self.check_stop(f"in epoch {p.epoch} at step {p.step} of {p.steps}")
        self.heartbeat({"epoch": p.epoch, "epochs": p.epochs, "step": p.step, "steps": p.steps, "loss": p.last_loss})

    def epoch_done(self, record: EpochRecord) -> None:
        details: dict[str, Any] = {"epoch": record.epoch, "epochs": self.epochs, "loss": record.loss}
        if record.validation is not None:
            details["validation"] = record.validation
        self.heartbeat(details)
        log.info("epoch", extra={"fields": {**details, "seconds": round(record.seconds, 3)}})
        if self.signal:
            now = time.monotonic()
            last = record.epoch == self.epochs
            if last or now - self.last_signal >= SIGNAL_INTERVAL_SECONDS:
                self.last_signal = now
                self.acts.send_signal(self.signal, {"epoch": record.epoch, "epochs": self.epochs, "loss": record.loss})
        self.check_stop(f"after epoch {record.epoch}")
