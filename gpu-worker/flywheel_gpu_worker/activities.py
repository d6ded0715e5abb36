"""The Temporal activity `trainNeuralModel`, called by name from the TypeScript workflows
(workflows/torch-training.ts). A sync activity: the worker runs each call in a fresh process of its
own (training_processes.py), where the training itself (training_run.py, which brings torch) heartbeats
and checks for cancellation between steps; tests run the same function in a thread.

Retries are the normal path, not the exceptional one: a GPU attempt whose worker dies times out on
its heartbeat and the workflow may retry it, possibly on the CPU queue under another activity id.
Everything an attempt leaves behind is therefore keyed by the workflow run (not the activity), and
written atomically: the checkpoint after every epoch and the ONNX file at the end.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from .config import Config, temporal_connect_options
from .datasets import DatasetError
from .devices import DevicePool
from .errors import ExportError, ParityError, TrainingDiverged
from .hyperparameters import HyperparameterError, Hyperparameters, parse_hyperparameters
from .store import ArtifactTransport, FileStore

log = logging.getLogger(__name__)

ACTIVITY_NAME = "trainNeuralModel"
INVALID_INPUT = "InvalidInput"
EXPORT_PARITY_ERROR = "ExportParityError"


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
        # This worker's data folder as a cache of the shared store: inputs from other hosts, outputs to them.
        transport = ArtifactTransport(config.mlflow_tracking_uri, config.mlflow_authorization) if config.mlflow_tracking_uri else None
        self.files = FileStore(config.data_dir, transport, config.foreign_paths)
        self.client = client
        # The worker's event loop: the client's signal coroutine must run there, not in this thread.
        self.loop = loop
        self._connect_tried = False

    def __getstate__(self) -> dict[str, Any]:
        # Sent to a training process: a client and a loop do not cross; it connects on its own.
        return {**self.__dict__, "client": None, "loop": None, "_connect_tried": False}

    @activity.defn(name=ACTIVITY_NAME, no_thread_cancel_exception=True)
    def train_neural_model(self, request: dict[str, Any]) -> dict[str, Any]:
        # no_thread_cancel_exception: cancellation is checked between steps, so it never lands in the
        # middle of a checkpoint write or a CUDA graph replay.
        try:
            req = parse_request(request)
        except (RequestError, HyperparameterError) as err:
            raise invalid_input(str(err)) from None
        with self.devices.lease() as devices:
            # Imported here: torch comes with it, and only training processes need it.
            from .training_run import run_training

            try:
                return run_training(self, req, devices)
            except (HyperparameterError, DatasetError, ExportError) as err:
                raise invalid_input(str(err)) from None
            except TrainingDiverged as err:
                raise invalid_input(str(err)) from None
            except ParityError as err:
                raise ApplicationError(str(err), type=EXPORT_PARITY_ERROR, non_retryable=True) from None

    def paths(self, checkpoint_name: str) -> tuple[Path, Path]:
        info = activity.info()
        if not info.workflow_id or not info.workflow_run_id:
            raise invalid_input(f"{ACTIVITY_NAME} must be called from a workflow (no workflow id in its context)")
        run = Path(safe(info.workflow_id)) / safe(info.workflow_run_id)
        data = self.config.data_dir
        return (
            data / "artifacts" / run / "model.onnx",
            data / "checkpoints" / run / safe(checkpoint_name) / "checkpoint.pt",
        )

    def send_signal(self, name: str, payload: dict[str, Any]) -> None:
        """Best effort and fire-and-forget: a lost progress update must never fail or slow training."""
        if self.client is None or self.loop is None:
            self._connect_for_signals()
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

    def _connect_for_signals(self) -> None:
        """In a training process there is no worker client: connect once, on a loop of our own."""
        if self._connect_tried:
            return
        self._connect_tried = True
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="signals", daemon=True).start()
        try:
            connect = Client.connect(
                self.config.temporal_address, namespace=self.config.temporal_namespace, **temporal_connect_options(self.config)
            )
            self.client = asyncio.run_coroutine_threadsafe(connect, loop).result(10)
            self.loop = loop
        except Exception as err:  # noqa: BLE001 - progress is best effort
            log.warning("no progress signals: cannot connect to Temporal", extra={"fields": {"error": repr(err)}})
            loop.call_soon_threadsafe(loop.stop)
