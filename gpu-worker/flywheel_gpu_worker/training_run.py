"""One training attempt, from the dataset store to the ONNX file: imported only where training runs
(a training process of the worker, or a test), because it brings torch with it."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from .checkpoint import load_checkpoint, save_checkpoint, write_atomic
from .datasets import DatasetError, gather, open_dataset, read_indices
from .onnx_export import PARITY_ROWS, build_onnx, check_parity, own_metadata
from .store import StoreError, StoreMiss
from .trainer import EpochRecord, Progress, bf16_supported, build_model, describe_devices, train

if TYPE_CHECKING:
    from .activities import TrainActivities, TrainRequest

log = logging.getLogger("flywheel_gpu_worker.activities")

# Bump when the checkpoint layout changes: an old one then no longer matches and is ignored.
CHECKPOINT_FORMAT = 1
# Heartbeats (and cancellation checks) inside an epoch; the workflow's heartbeat timeout is 20 s.
TICK_SECONDS = 1.0
# At most one progress signal a second: each is a workflow task on the caller's side.
SIGNAL_INTERVAL_SECONDS = 1.0
WORKER_SHUTDOWN = "WorkerShutdown"


def _local(fetch: Callable[[], Path], named: str | Path) -> Path:
    """An input nobody published is a missing file, named as the dataset reader names it."""
    try:
        return fetch()
    except StoreMiss as err:
        raise DatasetError(f"{named} is missing: {err}") from None


def run_training(acts: TrainActivities, req: TrainRequest, devices: list[Any]) -> dict[str, Any]:
    """The training itself: in a training process of its own when the worker runs it (worker.py)."""
    hp = req.hyperparameters
    onnx_path, ckpt_path = acts.paths(req.checkpoint_name)
    files = acts.files
    # Written by the TypeScript pool, maybe on another host: this host's copies, fetched on a miss.
    ds = open_dataset(_local(lambda: files.local_dataset(req.dataset_uri), Path(req.dataset_uri) / "meta.json"))
    meta = ds.meta
    if len(meta.classes) < 2:
        raise DatasetError(f"{req.dataset_uri}: a classifier needs at least two classes (got {meta.classes})")
    train_idx = read_indices(_local(lambda: files.local(req.train_uri), req.train_uri), meta.n_rows)
    valid_idx = read_indices(_local(lambda: files.local(valid_uri), valid_uri), meta.n_rows) if (valid_uri := req.valid_uri) else None
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
    try:
        files.local(ckpt_path)  # an earlier attempt on another host may have published one
    except StoreMiss:
        pass
    state = _load_matching(ckpt_path, fingerprint, devices[0])
    progress = _Progress(acts, req, hp.epochs, describe_devices(devices))

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
            # Every epoch, so a retry on another host resumes where this one stopped; best effort: a
            # store hiccup costs that resume some epochs, never this training.
            try:
                files.publish(ckpt_path)
            except (OSError, StoreError) as err:
                log.warning("checkpoint not published", extra={"fields": {"error": repr(err)}})
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
    files.publish(onnx_path)  # evaluated and registered by the TypeScript pool, maybe on another host
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


def _load_matching(path: Path, fingerprint: dict[str, Any], device: Any) -> dict[str, Any] | None:
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


def _precision(devices: list[Any]) -> str:
    return "bf16" if bf16_supported(devices[0]) else "fp32"


class _Progress:
    """Heartbeats, cancellation checks and progress signals for one attempt."""

    def __init__(self, acts: TrainActivities, req: TrainRequest, epochs: int, device: str) -> None:
        # Named in every progress signal, so the workflow's status says where training runs while it does.
        self.device = device
        self.acts = acts
        self.signal = req.progress_signal
        self.epochs = epochs
        self.last_signal = -float("inf")
        # In a training process: the worker that started it. If it dies, this training stops.
        self.parent = os.getppid()

    def heartbeat(self, details: dict[str, Any]) -> None:
        activity.heartbeat({k: v for k, v in details.items() if v is not None})

    def check_stop(self, where: str) -> None:
        if activity.is_cancelled():
            # The last epoch's checkpoint stays, for a later attempt or run to resume from.
            raise CancelledError(f"training cancelled {where}")
        if os.getppid() != self.parent:
            raise ApplicationError(f"the worker that started this training is gone; training stopped {where}", type=WORKER_SHUTDOWN)
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
                self.acts.send_signal(
                    self.signal, {"epoch": record.epoch, "epochs": self.epochs, "loss": record.loss, "device": self.device}
                )
        self.check_stop(f"after epoch {record.epoch}")
