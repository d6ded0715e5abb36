from typing import Any

import numpy as np
import pytest
import torch

from flywheel_gpu_worker.hyperparameters import Hyperparameters
from flywheel_gpu_worker.trainer import EpochRecord, Progress, TrainingDiverged, fit_standardisation, train

from .conftest import separable

HP = Hyperparameters(hidden_units=16, hidden_layers=2, learning_rate=0.01, epochs=6, batch_size=64, seed=7)


def data() -> tuple[np.ndarray, np.ndarray]:
    x, y = separable(n=500, d=4, seed=1)
    return x.astype(np.float32), y.astype(np.int64)


def accuracy(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_learns_a_separable_problem() -> None:
    x, y = data()
    r = train(x, y, 2, HP, valid=(x[:100], y[:100]))
    assert accuracy(r.model, x, y) > 0.9
    assert [h.epoch for h in r.history] == list(range(1, 7))
    assert r.history[-1].loss < r.history[0].loss
    assert r.history[-1].validation is not None and r.history[-1].validation["accuracy"] > 0.9
    assert (r.device, r.precision, r.cuda_graphs, r.resumed_from_epoch, r.epochs_run) == ("cpu", "fp32", False, 0, 6)
    assert not r.model.training and next(r.model.parameters()).device.type == "cpu"


def test_standardisation_is_in_the_model() -> None:
    x, y = data()
    r = train(x, y, 2, Hyperparameters(hidden_units=4, hidden_layers=1, epochs=1, batch_size=500))
    mean, scale = fit_standardisation(x)
    np.testing.assert_allclose(r.model.mean.numpy(), x.astype(np.float64).mean(0), rtol=1e-6)
    np.testing.assert_allclose(r.model.scale.numpy(), x.astype(np.float64).std(0), rtol=1e-6)
    np.testing.assert_array_equal(r.model.mean.numpy(), mean)
    const = np.ones((10, 2), dtype=np.float32)
    m, s = fit_standardisation(const)
    assert m.tolist() == [1.0, 1.0] and s.tolist() == [1.0, 1.0]


def test_deterministic_with_the_same_seed() -> None:
    x, y = data()
    a = train(x, y, 2, HP)
    b = train(x, y, 2, HP)
    assert same_weights(a.model, b.model)
    assert [h.loss for h in a.history] == [h.loss for h in b.history]
    c = train(x, y, 2, Hyperparameters(**{**HP.__dict__, "seed": 8}))
    assert not same_weights(a.model, c.model)


def test_resume_from_a_mid_run_checkpoint_gives_the_same_weights() -> None:
    x, y = data()
    full = train(x, y, 2, HP)
    states: dict[int, dict[str, Any]] = {}

    def keep(record: EpochRecord, state: Any) -> None:
        states[record.epoch] = state()

    train(x, y, 2, Hyperparameters(**{**HP.__dict__, "epochs": 3}), on_epoch=keep)
    # The same hyperparameters except epochs do not matter to epochs 1..3: resume with the full count.
    resumed = train(x, y, 2, HP, resume=states[3])
    assert resumed.resumed_from_epoch == 3 and resumed.epochs_run == 3
    assert same_weights(full.model, resumed.model)
    assert [h.loss for h in resumed.history] == [h.loss for h in full.history]
    assert states[3]["rng"] == {"seed": 7, "nextShuffleSeed": 11}


def test_resume_at_the_final_epoch_does_no_training() -> None:
    x, y = data()
    states: dict[int, Any] = {}
    first = train(x, y, 2, HP, on_epoch=lambda r, s: states.__setitem__(r.epoch, s()))
    calls: list[Any] = []
    again = train(x, y, 2, HP, resume=states[6], on_epoch=lambda r, s: calls.append(r), on_tick=calls.append, tick_seconds=0)
    assert calls == [] and again.epochs_run == 0 and again.seconds == 0.0 and again.resumed_from_epoch == 6
    assert same_weights(first.model, again.model)


def test_streamed_placement_matches_resident() -> None:
    x, y = data()
    hp = Hyperparameters(**{**HP.__dict__, "epochs": 2, "batch_size": 48})
    resident = train(x, y, 2, hp, placement="resident")
    # 100-row chunks round down to 96 (two batches), so several chunks and a partial last one.
    streamed = train(x, y, 2, hp, placement="stream", chunk_rows=100)
    assert [h.loss for h in resident.history] == pytest.approx([h.loss for h in streamed.history], rel=1e-6)
    for a, b in zip(resident.model.parameters(), streamed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


class Stop(Exception):
    pass


def test_cancellation_stops_between_steps() -> None:
    x, y = data()
    seen: list[Progress] = []
    epochs: list[int] = []

    def tick(p: Progress) -> None:
        seen.append(p)
        if len(seen) == 3:
            raise Stop

    with pytest.raises(Stop):
        train(x, y, 2, HP, on_tick=tick, tick_seconds=0, on_epoch=lambda r, s: epochs.append(r.epoch))
    # 500 rows / 64 = 8 steps: stopped at step 3 of epoch 1, before any epoch ended.
    assert [(p.epoch, p.step, p.steps) for p in seen] == [(1, 1, 8), (1, 2, 8), (1, 3, 8)]
    assert epochs == []


def test_divergence_is_reported() -> None:
    x, y = data()
    x[0, 0] = np.inf
    with pytest.raises(TrainingDiverged, match=r"training diverged at epoch 1 \(loss nan\): lower learningRate"):
        train(x, y, 2, HP)


def test_batch_larger_than_the_data() -> None:
    x, y = data()
    r = train(x, y, 2, Hyperparameters(hidden_units=8, epochs=2, batch_size=100000))
    assert len(r.history) == 2
