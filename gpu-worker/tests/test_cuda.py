"""CUDA paths: run by scripts/gpu-check.sh on a GPU machine, skipped elsewhere."""

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from temporalio.testing import ActivityEnvironment

from flywheel_gpu_worker import trainer as trainer_module
from flywheel_gpu_worker.activities import TrainActivities
from flywheel_gpu_worker.config import Config
from flywheel_gpu_worker.devices import DevicePool
from flywheel_gpu_worker.hyperparameters import Hyperparameters
from flywheel_gpu_worker.trainer import EpochRecord, train

from .conftest import separable

pytestmark = pytest.mark.cuda

CUDA = [torch.device("cuda", 0)]
HP = Hyperparameters(hidden_units=64, hidden_layers=2, learning_rate=0.005, epochs=5, batch_size=256, seed=3)


def data(n: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    x, y = separable(n=n, d=8, seed=2)
    return x.astype(np.float32), y.astype(np.int64)


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def test_bf16_run_learns() -> None:
    x, y = data()
    r = train(x, y, 2, HP, devices=CUDA, valid=(x[:1000], y[:1000]))
    assert r.precision == "bf16" and r.device.startswith("cuda:0 ")
    assert accuracy(r.model, x, y) > 0.9 and r.history[-1].validation["accuracy"] > 0.9


def test_cuda_graph_and_eager_give_the_same_loss_trajectory() -> None:
    x, y = data(5000)  # 5000 / 256: a partial last batch, padded in the graph
    graphed = train(x, y, 2, HP, devices=CUDA, cuda_graphs=True)
    eager = train(x, y, 2, HP, devices=CUDA, cuda_graphs=False)
    assert graphed.cuda_graphs and not eager.cuda_graphs
    # Same data order and arithmetic up to bf16 rounding and reduction order.
    np.testing.assert_allclose([h.loss for h in graphed.history], [h.loss for h in eager.history], rtol=0.05, atol=0.01)
    assert accuracy(graphed.model, x, y) > 0.9


def test_auto_uses_graphs_at_small_and_large_batches() -> None:
    x, y = data(140000)  # 140000 / 65536: a partial last batch, padded in the graph
    small = train(x, y, 2, dataclasses.replace(HP, epochs=1, batch_size=256), devices=CUDA)
    hp = dataclasses.replace(HP, epochs=3, batch_size=65536)
    large = train(x, y, 2, hp, devices=CUDA)
    eager = train(x, y, 2, hp, devices=CUDA, cuda_graphs=False)
    assert small.cuda_graphs and large.cuda_graphs and not eager.cuda_graphs
    np.testing.assert_allclose([h.loss for h in large.history], [h.loss for h in eager.history], rtol=0.05, atol=0.01)


def test_streamed_placement_matches_resident_on_cuda() -> None:
    x, y = data(5000)
    hp = dataclasses.replace(HP, epochs=2)
    resident = train(x, y, 2, hp, devices=CUDA, placement="resident")
    streamed = train(x, y, 2, hp, devices=CUDA, placement="stream", chunk_rows=1024)
    # The CPU permutation (streamed) and the GPU one (resident) differ, so only the outcome compares.
    assert streamed.cuda_graphs and accuracy(streamed.model, x, y) > 0.9
    assert abs(streamed.history[-1].loss - resident.history[-1].loss) < 0.1


def test_capture_failure_falls_back_to_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a: Any, **k: Any) -> Any:
        raise RuntimeError("capture refused")

    monkeypatch.setattr(trainer_module.torch.cuda, "graph", broken)
    x, y = data()
    r = train(x, y, 2, HP, devices=CUDA, cuda_graphs=True)
    assert not r.cuda_graphs and accuracy(r.model, x, y) > 0.9


@pytest.mark.parametrize(("first", "second"), [("cpu", "cuda"), ("cuda", "cpu")])
def test_checkpoint_moves_between_devices(first: str, second: str) -> None:
    x, y = data(2000)
    states: dict[int, Any] = {}
    dev = {"cpu": [torch.device("cpu")], "cuda": CUDA}

    def keep(r: EpochRecord, s: Any) -> None:
        states[r.epoch] = s()

    train(x, y, 2, dataclasses.replace(HP, epochs=2), devices=dev[first], on_epoch=keep)
    r = train(x, y, 2, HP, devices=dev[second], resume=states[2])
    assert r.resumed_from_epoch == 2 and r.epochs_run == 3 and accuracy(r.model, x, y) > 0.9


def test_activity_on_cuda(store: dict[str, Path]) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="wf", workflow_run_id="run")
    acts = TrainActivities(Config(data_dir=store["root"] / "data"), DevicePool.for_kind("cuda", 1))
    out = env.run(
        acts.train_neural_model,
        {
            "datasetUri": str(store["dataset"]),
            "trainUri": str(store["train"]),
            "validUri": str(store["valid"]),
            "family": "mlp",
            "hyperparameters": {"hiddenUnits": 32, "epochs": 5, "batchSize": 32, "learningRate": 0.01},
        },
    )
    assert out["device"].startswith("cuda:0 ") and out["precision"] == "bf16" and out["cudaGraphs"] is True
    assert out["parity"]["maxAbsDiff"] <= 1e-4 and out["epochs"][-1]["validation"]["accuracy"] > 0.9
