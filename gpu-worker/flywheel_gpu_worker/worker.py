"""The worker process: `flywheel-gpu-worker --device auto|cuda|cpu`.

Logs are one JSON object per line on stdout, in the TypeScript workers' shape (ts, level, component,
msg, fields), so one log pipeline reads all of Flywheel's processes. `flywheel up` waits for the
plain line "gpu worker ready" and for the Prometheus endpoint to answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio.client import Client
from temporalio.runtime import LogForwardingConfig, LoggingConfig, PrometheusConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import SharedStateManager, Worker

from . import __version__
from .activities import TrainActivities
from .config import Config, ConfigError, load_config, temporal_connect_options
from .devices import CudaProbe, DeviceError, DevicePool, default_concurrency, probe_cuda, resolve_device
from .training_processes import ProcessPerTaskExecutor, start_manager

COMPONENT = "gpu-worker"
READY_LINE = "gpu worker ready"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error", logging.CRITICAL: "error"}

log = logging.getLogger("flywheel_gpu_worker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": _LEVEL_NAMES.get(record.levelno, "info"),
            "component": COMPONENT,
            "msg": record.getMessage(),
        }
        if record.name not in ("flywheel_gpu_worker", "root"):
            entry["logger"] = record.name
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="flywheel-gpu-worker", description="Flywheel's PyTorch training worker (Temporal)")
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="cuda if available with auto (default)")
    p.add_argument(
        "--task-queue", help="poll this queue instead of the device's (FLYWHEEL_TASK_QUEUE_GPU or FLYWHEEL_TASK_QUEUE_CPU_TORCH)"
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p.parse_args(argv)


def make_runtime(config: Config) -> Runtime:
    # Prometheus conventions, as the TypeScript workers (workers/runtime.ts PROMETHEUS_NAMING).
    metrics = (
        PrometheusConfig(bind_address=f"{config.metrics_host}:{config.metrics_port}", counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True)
        if config.metrics_port
        else None
    )
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=metrics,
            # Core's own logs go through Python logging, so they come out as JSON lines too.
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="WARN"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
        )
    )


async def run(config: Config, kind: str, task_queue: str, concurrency: int, gpu_count: int) -> int:
    try:
        runtime = make_runtime(config)
    except Exception as err:  # noqa: BLE001
        message = (
            f"cannot start the Prometheus endpoint on {config.metrics_host}:{config.metrics_port} (FLYWHEEL_GPU_WORKER_METRICS_PORT): {err}"
        )
        log.error("worker failed", extra={"fields": {"error": message}})
        print(f"flywheel-gpu-worker: {message}", file=sys.stderr, flush=True)
        return 1
    try:
        client = await Client.connect(
            config.temporal_address, namespace=config.temporal_namespace, runtime=runtime, **temporal_connect_options(config)
        )
    except Exception as err:  # noqa: BLE001 - any connect failure ends the process with one message
        message = f"cannot reach Temporal at {config.temporal_address} (namespace {config.temporal_namespace}): {err}"
        log.error("worker failed", extra={"fields": {"error": message}})
        print(f"flywheel-gpu-worker: {message}", file=sys.stderr, flush=True)
        return 1

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # Trainings run in processes of their own (training_processes.py); the manager carries their
    # heartbeats, cancellation and device leases across.
    manager = start_manager()
    try:
        devices = DevicePool.for_kind(kind, concurrency, gpu_count, free=manager.Queue())
        activities = TrainActivities(config, devices)
        executor = ProcessPerTaskExecutor(setup_logging, config.log_level)
        worker = Worker(
            client,
            task_queue=task_queue,
            activities=[activities.train_neural_model],
            activity_executor=executor,
            shared_state_manager=SharedStateManager.create_from_multiprocessing(manager),
            max_concurrent_activities=concurrency,
            # On SIGTERM polling stops; a training stops at its next step (is_worker_shutdown) and its
            # retry resumes from the last epoch's checkpoint. The grace time covers what has no such
            # step (the ONNX export and parity check ending a training); after it the SDK cancels.
            graceful_shutdown_timeout=timedelta(seconds=config.shutdown_grace_seconds),
        )
        async with worker:
            log.info("worker ready", extra={"fields": {"taskQueue": task_queue}})
            print(READY_LINE, flush=True)
            await stop.wait()
            log.info("shutting down", extra={"fields": {"taskQueue": task_queue, "graceSeconds": config.shutdown_grace_seconds}})
        executor.shutdown(wait=True)
    finally:
        manager.shutdown()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config()
    except ConfigError as err:
        print(f"flywheel-gpu-worker: {err}", file=sys.stderr, flush=True)
        return 2
    setup_logging(config.log_level)
    try:
        probe = probe_cuda() if args.device != "cpu" else CudaProbe(torch="not imported", cuda=None, gpus=[])
        kind = resolve_device(args.device, probe)
    except DeviceError as err:
        log.error("worker failed", extra={"fields": {"error": str(err)}})
        print(f"flywheel-gpu-worker: {err}", file=sys.stderr, flush=True)
        return 2
    concurrency = config.max_concurrent_activities or default_concurrency(kind, len(probe.gpus))
    task_queue = args.task_queue or config.task_queue(kind)
    gpus = probe.gpus if kind == "cuda" else []
    log.info(
        "gpu worker starting",
        extra={
            "fields": {
                "device": kind,
                "gpus": gpus,
                "taskQueue": task_queue,
                "maxConcurrentActivities": concurrency,
                "temporalAddress": config.temporal_address,
                "namespace": config.temporal_namespace,
                "dataDir": str(config.data_dir),
                "metricsPort": config.metrics_port,
                "torch": probe.torch,
                "cuda": probe.cuda,
                "version": __version__,
            }
        },
    )
    try:
        code = asyncio.run(run(config, kind, task_queue, concurrency, len(probe.gpus)))
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        code = 130
    # Everything is stopped and flushed by now; skipping interpreter finalisation avoids an abort
    # that Temporal's native runtime threads can cause while Python tears its modules down.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())
