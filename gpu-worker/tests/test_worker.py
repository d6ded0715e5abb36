"""The worker process against a real local Temporal dev server: started as `flywheel_gpu_worker`
would be by `flywheel up`, driven by a workflow that calls the activity by name, stopped by SIGTERM."""

import asyncio
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from flywheel_gpu_worker.activities import safe

REPO_ROOT = Path(__file__).resolve().parents[2]


def temporal_cli() -> str | None:
    for candidate in (os.environ.get("FLYWHEEL_TEMPORAL_CLI"), str(REPO_ROOT / ".venv" / "bin" / "temporal"), shutil.which("temporal")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@workflow.defn(name="GpuWorkerSmoke")
class SmokeWorkflow:
    def __init__(self) -> None:
        self.progress: list[dict[str, Any]] = []

    @workflow.signal(name="trainingProgress")
    def on_progress(self, p: dict[str, Any]) -> None:
        self.progress.append(p)

    @workflow.run
    async def run(self, task_queue: str, req: dict[str, Any]) -> dict[str, Any]:
        out = await workflow.execute_activity(
            "trainNeuralModel",
            req,
            task_queue=task_queue,
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        # The signal is fire-and-forget, so it may land after the result.
        await workflow.wait_condition(lambda: any(p["epoch"] == p["epochs"] for p in self.progress), timeout=timedelta(seconds=30))
        return {"result": out, "progress": self.progress}


def start_worker(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], "queue.Queue[str]"]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "flywheel_gpu_worker", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def wait_for(lines: "queue.Queue[str]", text: str, seen: list[str], timeout: float = 120) -> None:
    while True:
        line = lines.get(timeout=timeout)
        seen.append(line)
        if line == text:
            return


@pytest.mark.asyncio
async def test_worker_process_trains_for_a_workflow(store: dict[str, Path]) -> None:
    cli = temporal_cli()
    if cli is None:
        pytest.skip("no Temporal CLI (set FLYWHEEL_TEMPORAL_CLI)")
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=cli)
    proc = None
    try:
        address = env.client.service_client.config.target_host
        torch_queue = f"torch-{uuid.uuid4().hex[:8]}"
        metrics_port = free_port()
        data_dir = store["root"] / "data"
        proc, lines = start_worker(
            {
                "TEMPORAL_ADDRESS": address,
                "FLYWHEEL_DATA_DIR": str(data_dir),
                "FLYWHEEL_GPU_WORKER_METRICS_PORT": str(metrics_port),
                # Its own Temporal and no MLflow: one host, the data folder alone.
                "FLYWHEEL_FILE_STORE": "off",
            },
            "--device",
            "cpu",
            "--task-queue",
            torch_queue,
        )
        seen: list[str] = []
        await asyncio.get_running_loop().run_in_executor(None, wait_for, lines, "gpu worker ready", seen)
        start = json.loads(seen[0])
        assert start["msg"] == "gpu worker starting" and start["device"] == "cpu" and start["taskQueue"] == torch_queue
        assert start["maxConcurrentActivities"] == 1 and start["component"] == "gpu-worker"
        body = await asyncio.get_running_loop().run_in_executor(
            None, lambda: urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        )
        assert "temporal" in body

        req = {
            "datasetUri": str(store["dataset"]),
            "trainUri": str(store["train"]),
            "validUri": str(store["valid"]),
            "family": "mlp",
            "hyperparameters": {"hiddenUnits": 8, "epochs": 3, "batchSize": 64, "learningRate": 0.01},
            "metadata": {"flywheel.model": "smoke"},
            "progressSignal": "trainingProgress",
        }
        wf_queue = f"wf-{uuid.uuid4().hex[:8]}"
        async with Worker(env.client, task_queue=wf_queue, workflows=[SmokeWorkflow], workflow_runner=UnsandboxedWorkflowRunner()):
            handle = await env.client.start_workflow(
                SmokeWorkflow.run, args=[torch_queue, req], id=f"smoke/{uuid.uuid4().hex[:6]}", task_queue=wf_queue
            )
            out = await handle.result()
        result = out["result"]
        assert Path(result["onnxUri"]) == data_dir / "artifacts" / safe(handle.id) / handle.result_run_id / "model.onnx"
        assert Path(result["onnxUri"]).is_file() and [e["epoch"] for e in result["epochs"]] == [1, 2, 3]
        assert out["progress"][-1] == {"epoch": 3, "epochs": 3, "loss": result["epochs"][-1]["loss"], "device": "cpu"}

        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.get_running_loop().run_in_executor(None, lambda: proc.wait(timeout=60))
        assert rc == 0
        while not lines.empty():
            seen.append(lines.get())
        # The worker's own log lines are JSON; Python itself may add a plain warning at exit
        # (multiprocessing's resource tracker on a loaded machine), which is not ours to parse.
        logs = [json.loads(line) for line in seen if line.startswith("{")]
        assert logs[-1]["msg"] == "stopped"
        assert any(entry["msg"] == "trained" for entry in logs)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        await env.shutdown()


def test_unreachable_temporal_exits_non_zero() -> None:
    port = free_port()
    r = subprocess.run(
        [sys.executable, "-m", "flywheel_gpu_worker", "--device", "cpu"],
        env={**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "FLYWHEEL_GPU_WORKER_METRICS_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in r.stderr


def test_bad_configuration_exits_2() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "flywheel_gpu_worker", "--device", "cpu"],
        env={**os.environ, "FLYWHEEL_LOG_LEVEL": "loud"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "FLYWHEEL_LOG_LEVEL must be one of" in r.stderr
