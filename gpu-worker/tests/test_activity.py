import asyncio
import dataclasses
import hashlib
import threading
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import ActivityEnvironment

from flywheel_gpu_worker import training_run
from flywheel_gpu_worker.activities import TrainActivities, safe
from flywheel_gpu_worker.config import Config
from flywheel_gpu_worker.devices import DevicePool

WORKFLOW_ID = "training/penguins:1"
RUN_ID = "0190a1b2-run"


def make_env() -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id=WORKFLOW_ID, workflow_run_id=RUN_ID, activity_type="trainNeuralModel", activity_id="7"
    )
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details[0])
    return env, beats


def without_seconds(epochs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Epoch records with their wall time left out: everything else must be reproducible."""
    return [{k: v for k, v in e.items() if k != "seconds"} for e in epochs]


def activities(root: Path, client: Any = None, loop: Any = None) -> TrainActivities:
    return TrainActivities(Config(data_dir=root / "data"), DevicePool.for_kind("cpu", 1), client=client, loop=loop)


def request(store: dict[str, Path], **overrides: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "datasetUri": str(store["dataset"]),
        "trainUri": str(store["train"]),
        "validUri": str(store["valid"]),
        "family": "mlp",
        "hyperparameters": {"hiddenUnits": 16, "hiddenLayers": 2, "learningRate": 0.01, "epochs": 4, "batchSize": 32, "seed": 1},
        "metadata": {"flywheel.model": "penguins"},
    }
    req.update(overrides)
    return req


def test_full_run_returns_the_documented_output(store: dict[str, Path]) -> None:
    env, beats = make_env()
    out = env.run(activities(store["root"]).train_neural_model, request(store))
    assert set(out) == {
        "onnxUri",
        "sha256",
        "sizeBytes",
        "epochs",
        "trainRows",
        "trainSeconds",
        "samplesPerSecond",
        "resumedFromEpoch",
        "device",
        "precision",
        "cudaGraphs",
        "parity",
    }
    onnx_path = Path(out["onnxUri"])
    assert onnx_path == store["root"] / "data" / "artifacts" / safe(WORKFLOW_ID) / RUN_ID / "model.onnx"
    assert safe(WORKFLOW_ID) == "training_penguins_1"
    data = onnx_path.read_bytes()
    assert out["sha256"] == hashlib.sha256(data).hexdigest() and out["sizeBytes"] == len(data)
    assert [e["epoch"] for e in out["epochs"]] == [1, 2, 3, 4]
    assert set(out["epochs"][0]) == {"epoch", "loss", "seconds", "validation"} and set(out["epochs"][0]["validation"]) == {"accuracy", "logLoss"}
    assert out["epochs"][-1]["validation"]["accuracy"] > 0.9
    assert out["trainRows"] == 480 and out["resumedFromEpoch"] == 0
    assert out["trainSeconds"] > 0 and out["samplesPerSecond"] == pytest.approx(480 * 4 / out["trainSeconds"])
    assert (out["device"], out["precision"], out["cudaGraphs"]) == ("cpu", "fp32", False)
    assert out["parity"]["rows"] == 480 and out["parity"]["maxAbsDiff"] <= out["parity"]["tolerance"] == 1e-4
    meta = {p.key: p.value for p in onnx.load(onnx_path).metadata_props}
    assert meta["flywheel.model"] == "penguins" and meta["flywheel.classes"] == '["no","yes"]'
    # A heartbeat after every epoch, with the epoch's numbers.
    epoch_beats = [b for b in beats if "step" not in b]
    assert [b["epoch"] for b in epoch_beats] == [1, 2, 3, 4]
    assert epoch_beats[-1]["epochs"] == 4 and "validation" in epoch_beats[-1] and "loss" in epoch_beats[-1]
    ckpt = store["root"] / "data" / "checkpoints" / safe(WORKFLOW_ID) / RUN_ID / "train" / "checkpoint.pt"
    assert ckpt.exists()


def test_retry_after_the_final_epoch_does_no_training(store: dict[str, Path]) -> None:
    env, _ = make_env()
    acts = activities(store["root"])
    first = env.run(acts.train_neural_model, request(store))
    # A retry under another activity id (the CPU queue after a GPU timeout) finds the checkpoint.
    env2, beats2 = make_env()
    env2.info = dataclasses.replace(env2.info, activity_id="8", attempt=2)
    second = env2.run(acts.train_neural_model, request(store))
    assert second["resumedFromEpoch"] == 4 and second["trainSeconds"] == 0.0 and second["samplesPerSecond"] == 0.0
    assert second["epochs"] == first["epochs"] and second["sha256"] == first["sha256"]
    assert all("step" not in b for b in beats2) and len(beats2) == 1


def test_a_checkpoint_of_other_hyperparameters_is_ignored(store: dict[str, Path]) -> None:
    acts = activities(store["root"])
    env, _ = make_env()
    two = request(store)
    two["hyperparameters"] = {**two["hyperparameters"], "epochs": 2}
    env.run(acts.train_neural_model, two)
    env2, _ = make_env()
    out = env2.run(acts.train_neural_model, request(store))
    assert out["resumedFromEpoch"] == 0 and len(out["epochs"]) == 4


def test_cancellation_raises_cancelled_error_and_keeps_the_checkpoint(store: dict[str, Path]) -> None:
    env, beats = make_env()

    def on_heartbeat(*details: Any) -> None:
        beats.append(details[0])
        if details[0].get("epoch") == 1 and "step" not in details[0]:
            env.cancel()  # right after epoch 1's checkpoint

    env.on_heartbeat = on_heartbeat
    req = request(store)
    with pytest.raises(CancelledError, match="training cancelled after epoch 1"):
        env.run(activities(store["root"]).train_neural_model, req)
    env2, _ = make_env()
    out = env2.run(activities(store["root"]).train_neural_model, req)
    assert out["resumedFromEpoch"] == 1 and [e["epoch"] for e in out["epochs"]] == [1, 2, 3, 4]
    # Resuming repeats exactly what an uninterrupted run (another workflow run) does.
    env3, _ = make_env()
    env3.info = dataclasses.replace(env3.info, workflow_run_id="run-2")
    uninterrupted = env3.run(activities(store["root"]).train_neural_model, req)
    assert uninterrupted["resumedFromEpoch"] == 0
    assert without_seconds(uninterrupted["epochs"]) == without_seconds(out["epochs"]) and uninterrupted["sha256"] == out["sha256"]


def test_heartbeats_and_cancellation_inside_an_epoch(store: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # A tick after every step, so the in-epoch path runs whatever the machine's speed.
    monkeypatch.setattr(training_run, "TICK_SECONDS", 0.0)
    env, beats = make_env()

    def on_heartbeat(*details: Any) -> None:
        beats.append(details[0])
        if details[0].get("step") == 3 and details[0]["epoch"] == 2:
            env.cancel()

    env.on_heartbeat = on_heartbeat
    with pytest.raises(CancelledError, match=r"training cancelled in epoch 2 at step 4 of 15"):
        env.run(activities(store["root"]).train_neural_model, request(store))
    steps = [b for b in beats if "step" in b]
    assert steps[0] == {"epoch": 1, "epochs": 4, "step": 1, "steps": 15}  # no loss before the first epoch ends
    assert set(steps[-1]) == {"epoch", "epochs", "step", "steps", "loss"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hyperparameters": {"hiddenUnits": 0}}, "hyperparameter hiddenUnits must be an integer >= 4 and <= 4096 (got 0)"),
        ({"hyperparameters": {"dropout": 0.5}}, "unknown hyperparameter 'dropout'"),
        ({"family": "xgboost"}, "family 'xgboost' is not trained by the PyTorch pool"),
        ({"datasetUri": "/nonexistent"}, "/nonexistent/meta.json is missing"),
        ({"metadata": {"flywheel.family": "softmax-regression"}}, "metadata 'flywheel.family' is derived from the model"),
    ],
)
def test_invalid_input_is_non_retryable(store: dict[str, Path], change: dict[str, Any], message: str) -> None:
    env, _ = make_env()
    with pytest.raises(ApplicationError) as err:
        env.run(activities(store["root"]).train_neural_model, request(store, **change))
    assert err.value.type == "InvalidInput" and err.value.non_retryable
    assert message in str(err.value)


class FakeHandle:
    def __init__(self, sent: list[Any], ids: tuple[str, str | None]) -> None:
        self.sent, self.ids = sent, ids

    async def signal(self, name: str, arg: Any) -> None:
        self.sent.append((self.ids, name, arg))


class FakeClient:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def get_workflow_handle(self, workflow_id: str, *, run_id: str | None = None) -> FakeHandle:
        return FakeHandle(self.sent, (workflow_id, run_id))


def test_progress_signal_is_rate_limited_and_always_sends_the_last_epoch(store: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # An interval longer than any test run, so what is sent does not depend on the machine's speed.
    monkeypatch.setattr(training_run, "SIGNAL_INTERVAL_SECONDS", 3600.0)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        client = FakeClient()
        env, _ = make_env()
        env.run(activities(store["root"], client, loop).train_neural_model, request(store, progressSignal="trainingProgress"))
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    # The first epoch, then nothing until the interval passes, except the last epoch.
    assert [s[2]["epoch"] for s in client.sent] == [1, 4]
    assert all(s[0] == (WORKFLOW_ID, RUN_ID) and s[1] == "trainingProgress" for s in client.sent)
    assert set(client.sent[-1][2]) == {"epoch", "epochs", "loss", "device"} and client.sent[-1][2]["device"] == "cpu" and client.sent[-1][2]["epochs"] == 4


def test_a_failing_signal_never_fails_training(store: dict[str, Path]) -> None:
    class Broken:
        def get_workflow_handle(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("no such workflow")

    loop = asyncio.new_event_loop()
    try:
        env, _ = make_env()
        out = env.run(activities(store["root"], Broken(), loop).train_neural_model, request(store, progressSignal="p"))
        assert len(out["epochs"]) == 4
    finally:
        loop.close()


def test_cpu_device_pool() -> None:
    pool = DevicePool.for_kind("cpu", 2)
    with pool.lease() as a, pool.lease() as b:
        assert a == b == [torch.device("cpu")]
