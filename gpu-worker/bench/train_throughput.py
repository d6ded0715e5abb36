"""Training throughput: Flywheel's trainer against a plain PyTorch loop of the same model on the same data.

The model: 32 features, two hidden layers of 256 (ReLU), 2 classes, AdamW(lr 1e-3), bf16 autocast on
CUDA (fp32 on the CPU). The data: synthetic float32 rows (10,000,000 on CUDA, 2,000,000 on the CPU by
default). For each batch size, both loops run warm-up epoch(s) and then timed epochs; throughput is
rows x timed epochs / timed seconds, with CUDA synchronised before every timer read.

  python bench/train_throughput.py [--rows N] [--epochs E] [--device auto|cuda|cpu] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from temporalio.testing import ActivityEnvironment

from flywheel_gpu_worker.activities import TrainActivities
from flywheel_gpu_worker.config import Config
from flywheel_gpu_worker.devices import DevicePool
from flywheel_gpu_worker.hyperparameters import Hyperparameters
from flywheel_gpu_worker.model import MLP
from flywheel_gpu_worker.trainer import EpochRecord, bf16_supported, describe_devices, train
from flywheel_gpu_worker.training_processes import ProcessPerTaskExecutor

FEATURES = 32
HIDDEN_UNITS = 256
HIDDEN_LAYERS = 2
CLASSES = 2
LR = 1e-3
WEIGHT_DECAY = 0.01  # AdamW's default, used by both loops
SEED = 0


def synthetic(rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(SEED)
    x = torch.randn(rows, FEATURES, generator=g)
    w = torch.randn(FEATURES, generator=g)
    y = ((x @ w + 0.5 * torch.randn(rows, generator=g)) > 0).long()
    return x, y


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int, warmup: int, epochs: int) -> dict[str, Any]:
    """What one would write by hand: data already on the device, a randperm per epoch, eager steps."""
    amp = bf16_supported(device)
    model = MLP(FEATURES, CLASSES, HIDDEN_UNITS, HIDDEN_LAYERS)
    model.init_weights(SEED)
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    xd, yd = x.to(device), y.to(device)
    n = len(yd)
    timed = 0.0
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    for epoch in range(warmup + epochs):
        sync(device)
        t0 = time.perf_counter()
        loss_sum.zero_()
        perm = torch.randperm(n, device=device)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            xb, yb = xd[idx], yd[idx]
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(xb)
            loss = F.cross_entropy(logits.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(idx)
        last_loss = loss_sum.item() / n
        sync(device)
        if epoch >= warmup:
            timed += time.perf_counter() - t0
    return {"seconds": timed, "samplesPerSecond": n * epochs / timed, "finalLoss": last_loss}


def flywheel_loop(
    x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int, warmup: int, epochs: int, cuda_graphs: bool | None = None
) -> dict[str, Any]:
    """The activity's code path (trainer.train), timed by its own per-epoch clock, which stops after
    the epoch's loss has been read back from the device. cuda_graphs=False times its eager fallback."""
    hp = Hyperparameters(
        hidden_units=HIDDEN_UNITS,
        hidden_layers=HIDDEN_LAYERS,
        learning_rate=LR,
        weight_decay=WEIGHT_DECAY,
        epochs=warmup + epochs,
        batch_size=batch,
        seed=SEED,
    )
    records: list[EpochRecord] = []
    result = train(x, y, CLASSES, hp, devices=[device], on_epoch=lambda r, _state: records.append(r), cuda_graphs=cuda_graphs)
    timed = sum(r.seconds for r in records[warmup:])
    return {
        "seconds": timed,
        "samplesPerSecond": len(y) * epochs / timed,
        "finalLoss": records[-1].loss,
        "cudaGraphs": result.cuda_graphs,
        "precision": result.precision,
    }


def activity_loop(x: torch.Tensor, y: torch.Tensor, device: torch.device, batch: int, warmup: int, epochs: int) -> dict[str, Any]:
    """The whole activity as a worker runs it (through Temporal's ActivityEnvironment): the dataset
    read from the store's files, a checkpoint written every epoch, heartbeats and cancellation checks,
    then the ONNX export and its parity check. Throughput counts the timed epochs only; the
    export, which happens once per training, is reported apart."""
    with tempfile.TemporaryDirectory(prefix="flywheel-bench-") as tmp:
        root = Path(tmp)
        ds = root / "datasets" / "bench"
        ds.mkdir(parents=True)
        x.numpy().astype("<f8").tofile(ds / "x.f64")
        y.numpy().astype("<i4").tofile(ds / "y.i32")
        meta = {"digest": "bench", "name": "bench", "source": "bench", "featureNames": [f"f{i}" for i in range(FEATURES)],
                "labelName": "y", "classes": [str(c) for c in range(CLASSES)], "nRows": len(y), "nFeatures": FEATURES}
        (ds / "meta.json").write_text(json.dumps(meta))
        np.arange(len(y), dtype="<u4").tofile(root / "train.u32")
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id=f"bench-{batch}", workflow_run_id="run", activity_type="trainNeuralModel")
        acts = TrainActivities(Config(data_dir=root / "data"), DevicePool.for_kind(device.type, 1))
        request = {
            "datasetUri": str(ds), "trainUri": str(root / "train.u32"), "family": "mlp",
            "hyperparameters": {"hiddenUnits": HIDDEN_UNITS, "hiddenLayers": HIDDEN_LAYERS, "learningRate": LR, "weightDecay": WEIGHT_DECAY,
                                "epochs": warmup + epochs, "batchSize": batch, "seed": SEED},
        }
        t0 = time.perf_counter()
        out = env.run(acts.train_neural_model, request)
        total = time.perf_counter() - t0
    timed = sum(e["seconds"] for e in out["epochs"][warmup:])
    return {
        "seconds": timed,
        "samplesPerSecond": len(y) * epochs / timed,
        "finalLoss": out["epochs"][-1]["loss"],
        "cudaGraphs": out["cudaGraphs"],
        "precision": out["precision"],
        "activitySeconds": total,
        "parityMaxAbsDiff": out["parity"]["maxAbsDiff"],
    }


def _touch_device(device: str) -> str:
    import torch as t

    t.zeros(1, device=device).sum().item()
    return t.__version__


def training_process_start(device: torch.device) -> float:
    """The fixed cost the worker pays per training for running it in a fresh process: spawn,
    import torch, first use of the device (a CUDA context). Not in the per-epoch figures."""
    executor = ProcessPerTaskExecutor(_no_logging, "info")
    t0 = time.perf_counter()
    executor.submit(_touch_device, str(device)).result()
    seconds = time.perf_counter() - t0
    executor.shutdown()
    return seconds


def _no_logging(_level: str) -> None:
    pass


def measure(fn: Any, device: torch.device, *args: Any) -> dict[str, Any]:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    out = fn(*args)
    if device.type == "cuda":
        out["maxMemoryAllocatedBytes"] = torch.cuda.max_memory_allocated(device)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    p.add_argument("--rows", type=int, help="default 10,000,000 on CUDA, 2,000,000 on the CPU")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs per measurement (default 2)")
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--batch-sizes", default="65536,8192")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    a = p.parse_args(argv)
    kind = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    if kind == "cuda" and not torch.cuda.is_available():
        print("--device cuda, but torch sees no CUDA device", file=sys.stderr)
        return 2
    if a.epochs < 1 or a.warmup_epochs < 1:
        print("--epochs and --warmup-epochs must be >= 1", file=sys.stderr)
        return 2
    device = torch.device("cuda", 0) if kind == "cuda" else torch.device("cpu")
    rows = a.rows or (10_000_000 if kind == "cuda" else 2_000_000)
    batch_sizes = [int(b) for b in a.batch_sizes.split(",")]

    def say(*parts: Any) -> None:
        if not a.json:
            print(*parts, flush=True)

    t0 = time.perf_counter()
    x, y = synthetic(rows)
    say(f"device {describe_devices([device])}, torch {torch.__version__} (CUDA {torch.version.cuda}), python {platform.python_version()}")
    say(f"{rows:,} rows x {FEATURES} features, MLP {HIDDEN_LAYERS}x{HIDDEN_UNITS}, {CLASSES} classes")
    say(f"data generated in {time.perf_counter() - t0:.1f} s")
    say(f"{a.warmup_epochs} warm-up + {a.epochs} timed epoch(s) per measurement")
    results = []
    for batch in batch_sizes:
        plain = measure(plain_loop, device, x, y, device, batch, a.warmup_epochs, a.epochs)
        fly = measure(flywheel_loop, device, x, y, device, batch, a.warmup_epochs, a.epochs)
        act = measure(activity_loop, device, x, y, device, batch, a.warmup_epochs, a.epochs)
        ratio = fly["samplesPerSecond"] / plain["samplesPerSecond"]
        activity_ratio = act["samplesPerSecond"] / plain["samplesPerSecond"]
        result = {"batchSize": batch, "steps": math.ceil(rows / batch), "plain": plain, "flywheel": fly, "activity": act, "ratio": ratio, "activityRatio": activity_ratio}
        if device.type == "cuda":
            # What the graph buys: the same trainer with the capture turned off.
            eager = measure(flywheel_loop, device, x, y, device, batch, a.warmup_epochs, a.epochs, False)
            result["flywheelEager"] = eager
            result["eagerRatio"] = eager["samplesPerSecond"] / plain["samplesPerSecond"]
            say(f"              flywheel eager {eager['samplesPerSecond']:>14,.0f} samples/s | eager/plain {result['eagerRatio']:.2f}")
        results.append(result)
        mem = ""
        if device.type == "cuda":
            mib = {k: v["maxMemoryAllocatedBytes"] / 2**20 for k, v in (("plain", plain), ("flywheel", fly))}
            mem = f"  (max allocated: plain {mib['plain']:,.0f} MiB, flywheel {mib['flywheel']:,.0f} MiB)"
        say(
            f"batch {batch:>6}: plain {plain['samplesPerSecond']:>14,.0f} samples/s | flywheel {fly['samplesPerSecond']:>14,.0f} samples/s"
            f" (cudaGraphs={fly['cudaGraphs']}, {fly['precision']}) | flywheel/plain {ratio:.2f}{mem}"
        )
        say(
            f"              activity {act['samplesPerSecond']:>14,.0f} samples/s (store read, checkpoint every epoch, heartbeats;"
            f" whole activity incl. ONNX export {act['activitySeconds']:.1f} s) | activity/plain {activity_ratio:.2f}"
        )
    process_start = training_process_start(device)
    say(f"training process start (spawn, import torch, first {device.type} use): {process_start:.1f} s per training")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    say(f"peak RSS {peak_rss / 2**20:,.0f} MiB")
    summary = {
        "device": describe_devices([device]),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "rows": rows,
        "features": FEATURES,
        "hidden": [HIDDEN_UNITS] * HIDDEN_LAYERS,
        "classes": CLASSES,
        "warmupEpochs": a.warmup_epochs,
        "timedEpochs": a.epochs,
        "results": results,
        "peakRssBytes": peak_rss,
        "trainingProcessStartSeconds": process_start,
    }
    print(json.dumps(summary, indent=None if a.json else 2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
