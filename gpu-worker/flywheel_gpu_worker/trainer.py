"""The training loop, one code path for CUDA and the CPU.

On CUDA: bf16 autocast, the training set copied to the GPU once through pinned memory (or streamed
in double-buffered chunks when it does not fit), and the whole step (gather, forward, backward,
AdamW) captured once as a CUDA graph and replayed, because an MLP's kernels finish faster than Python
can launch them. On an H200 an eager step of the benchmark's 32-256-256-2 model cost 2.1-2.6 ms at
8,192 rows and at 65,536 alike; a replayed one cost 0.29 and 0.71 ms (docs/benchmarks.md). On the
CPU: fp32, eager, the same loop otherwise.

Determinism: the initial weights come from a generator seeded with `seed`, and epoch e's shuffle from
one seeded with `seed + e`. Nothing draws from torch's global generators (the worker's threads share
them), so a run resumed from epoch k's checkpoint repeats exactly what an uninterrupted run does.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import TrainingDiverged
from .hyperparameters import Hyperparameters
from .model import MLP

log = logging.getLogger(__name__)

# Eager steps before capture: they initialise cuBLAS workspaces and AdamW's state, which a capture
# cannot allocate. Their updates are undone before the capture.
_GRAPH_WARMUP_STEPS = 3
LOG_LOSS_EPS = 1e-15
# Streamed placement moves chunks of about this many bytes per host-to-device copy.
_STREAM_CHUNK_BYTES = 256 << 20
_EVAL_CHUNK_ROWS = 65536


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    loss: float
    validation: dict[str, float] | None = None
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"epoch": self.epoch, "loss": self.loss, "seconds": self.seconds}
        if self.validation is not None:
            out["validation"] = dict(self.validation)
        return out

    @staticmethod
    def from_json(d: dict[str, Any]) -> EpochRecord:
        return EpochRecord(int(d["epoch"]), float(d["loss"]), d.get("validation"), float(d.get("seconds", 0.0)))


@dataclass(frozen=True)
class Progress:
    """Where an epoch is, for heartbeats and cancellation checks between steps."""

    epoch: int
    epochs: int
    step: int
    steps: int
    last_loss: float | None


@dataclass
class TrainResult:
    model: MLP  # on the CPU, fp32, eval mode
    history: list[EpochRecord]
    resumed_from_epoch: int
    epochs_run: int
    seconds: float
    device: str
    precision: str
    cuda_graphs: bool


def fit_standardisation(x: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and population std of the training rows, in float64 and two passes (the
    one-pass formula cancels for large means); a constant feature gets scale 1, as in the TypeScript
    trainer, so it standardises to 0 instead of dividing by ~0."""
    a = x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    n, d = a.shape
    step = max(1, (64 << 20) // (8 * d))
    total = np.zeros(d)
    for i in range(0, n, step):
        total += a[i : i + step].sum(axis=0, dtype=np.float64)
    mean = total / n
    ss = np.zeros(d)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite inputs surface as a diverged loss
        for i in range(0, n, step):
            ss += ((a[i : i + step].astype(np.float64) - mean) ** 2).sum(axis=0)
        std = np.sqrt(ss / n)
    scale = np.where(std > 0, std, 1.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def bf16_supported(device: torch.device) -> bool:
    """Native bf16 only (Ampere and later): emulated bf16 on older GPUs is slower than fp32."""
    if device.type != "cuda":
        return False
    try:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch before the argument existed
        return torch.cuda.is_bf16_supported()


def free_device_memory(device: torch.device) -> int:
    """Free bytes, counting what torch's caching allocator holds but does not use (a previous
    training's buffers) as free: this process can reuse it."""
    free, _ = torch.cuda.mem_get_info(device)
    return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)


def describe_devices(devices: Sequence[torch.device]) -> str:
    if devices[0].type != "cuda":
        return "cpu"
    return ", ".join(f"cuda:{d.index} {torch.cuda.get_device_name(d)}" for d in devices)


def build_model(n_features: int, n_classes: int, hp: Hyperparameters, state: dict[str, Any]) -> MLP:
    """A CPU model from a checkpoint's state (whatever device it was saved from)."""
    mean, scale = (torch.as_tensor(state[k]).detach().cpu() for k in ("mean", "scale"))
    model = MLP(n_features, n_classes, hp.hidden_units, hp.hidden_layers, mean, scale)
    model.load_state_dict({k: v.to("cpu") for k, v in state["model"].items()})
    return model


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _load_optimizer(opt: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """load_state_dict takes the saved groups' implementation flags wholesale, and a checkpoint may come
    from another device (a GPU attempt finished on the CPU queue, or the reverse): keep this
    optimizer's flags and put `step` where they need it."""
    opt.load_state_dict(state)
    for group in opt.param_groups:
        for key in ("capturable", "foreach", "fused", "differentiable"):
            if key in opt.defaults:
                group[key] = opt.defaults[key]
    on_device = bool(opt.defaults.get("capturable")) or bool(opt.defaults.get("fused"))
    for p, st in opt.state.items():
        if "step" in st:
            st["step"] = st["step"].to(dtype=torch.float32, device=p.device if on_device else "cpu")


class _Source:
    """Where steps read their rows from: a fixed (x, y) pair of device tensors, so that a CUDA graph
    captured against them stays valid, and per epoch the row indices of each step into them.

    resident: the whole split on the device, indices are the epoch's permutation.
    streamed: a two-chunk device buffer; while the GPU trains on one half, the next chunk of the
    permutation is gathered on the CPU into pinned memory and copied into the other half on a side
    stream."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        device: torch.device,
        batch: int,
        seed: int,
        placement: str,
        chunk_rows: int | None,
    ) -> None:
        self.n, d = x.shape
        self.device = device
        self.batch = batch
        self.seed = seed
        self.cuda = device.type == "cuda"
        row_bytes = d * 4 + 8
        if placement == "auto":
            fits = True
            if self.cuda:
                fits = self.n * row_bytes <= free_device_memory(device) // 2
            placement = "resident" if fits else "stream"
        self.placement = placement
        if placement == "resident":
            if self.cuda:
                # Pinned, so the copy is one DMA transfer instead of staged pageable chunks.
                self.x = x.pin_memory().to(device, non_blocking=True)
                self.y = y.pin_memory().to(device, non_blocking=True)
                torch.cuda.current_stream(device).synchronize()
            else:
                self.x, self.y = x, y
            return
        chunk = chunk_rows or max(1, _STREAM_CHUNK_BYTES // row_bytes)
        # Whole batches per chunk, so that the batches are the same as with resident placement.
        self.chunk = max(batch, chunk // batch * batch)
        self.host_x, self.host_y = x, y
        # Zeros, not empty: the graph warm-up reads these before the first chunk arrives.
        self.x = torch.zeros((2 * self.chunk, d), dtype=torch.float32, device=device)
        self.y = torch.zeros(2 * self.chunk, dtype=torch.int64, device=device)
        self.positions = torch.arange(2 * self.chunk, device=device)
        if self.cuda:
            self.pinned = [
                (torch.empty((self.chunk, d), dtype=torch.float32).pin_memory(), torch.empty(self.chunk, dtype=torch.int64).pin_memory())
                for _ in range(2)
            ]
            self.copy_stream = torch.cuda.Stream(device)
            self.copied = [torch.cuda.Event(), torch.cuda.Event()]
            self.consumed = [torch.cuda.Event(), torch.cuda.Event()]

    def _permutation(self, epoch: int, on_device: bool) -> torch.Tensor:
        gen_device = self.device if on_device else torch.device("cpu")
        g = torch.Generator(device=gen_device).manual_seed(self.seed + epoch)
        return torch.randperm(self.n, generator=g, device=gen_device)

    def batches(self, epoch: int) -> Iterator[tuple[torch.Tensor, int]]:
        """(indices into self.x/self.y, rows) per step, in the epoch's shuffled order."""
        if self.placement == "resident":
            perm = self._permutation(epoch, on_device=self.cuda)
            for i in range(0, self.n, self.batch):
                idx = perm[i : i + self.batch]
                yield idx, len(idx)
            return
        perm = self._permutation(epoch, on_device=False)
        n_chunks = math.ceil(self.n / self.chunk)
        self._load(perm, 0)
        for k in range(n_chunks):
            if k + 1 < n_chunks:
                self._load(perm, k + 1)
            half = k % 2
            rows = min(self.chunk, self.n - k * self.chunk)
            if self.cuda:
                torch.cuda.current_stream(self.device).wait_event(self.copied[half])
            base = half * self.chunk
            for i in range(0, rows, self.batch):
                m = min(self.batch, rows - i)
                yield self.positions[base + i : base + i + m], m
            if self.cuda:
                self.consumed[half].record(torch.cuda.current_stream(self.device))

    def _load(self, perm: torch.Tensor, k: int) -> None:
        half = k % 2
        rows = perm[k * self.chunk : (k + 1) * self.chunk]
        m = len(rows)
        lo = half * self.chunk
        if not self.cuda:
            torch.index_select(self.host_x, 0, rows, out=self.x[lo : lo + m])
            torch.index_select(self.host_y, 0, rows, out=self.y[lo : lo + m])
            return
        px, py = self.pinned[half]
        # The previous copy out of this pinned buffer must be done before it is overwritten...
        self.copied[half].synchronize()
        torch.index_select(self.host_x, 0, rows, out=px[:m])
        torch.index_select(self.host_y, 0, rows, out=py[:m])
        # ...and the steps reading this half of the device buffer must be done before it is refilled.
        self.copy_stream.wait_event(self.consumed[half])
        with torch.cuda.stream(self.copy_stream):
            self.x[lo : lo + m].copy_(px[:m], non_blocking=True)
            self.y[lo : lo + m].copy_(py[:m], non_blocking=True)
            self.copied[half].record(self.copy_stream)


class _EagerStep:
    def __init__(self, net: nn.Module, opt: torch.optim.Optimizer, src: _Source, amp: bool, loss_sum: torch.Tensor) -> None:
        self.net, self.opt, self.src, self.amp, self.loss_sum = net, opt, src, amp, loss_sum
        self.device_type = src.device.type

    def __call__(self, idx: torch.Tensor, m: int) -> None:
        xb = self.src.x.index_select(0, idx)
        yb = self.src.y.index_select(0, idx)
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.amp):
            logits = self.net(xb)
        loss = F.cross_entropy(logits.float(), yb)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.loss_sum.add_(loss.detach() * m)


class _GraphStep:
    """The whole step as one CUDA graph over static index/weight buffers. A partial last batch is
    padded (weight 0 on the padding, 1/rows elsewhere), which gives the same mean loss and gradient
    as the eager step without a second graph or an eager step mixed in."""

    def __init__(self, net: nn.Module, opt: torch.optim.Optimizer, src: _Source, amp: bool, loss_sum: torch.Tensor) -> None:
        self.net, self.opt, self.src, self.amp, self.loss_sum = net, opt, src, amp, loss_sum
        b = src.batch
        self.batch = b
        self.idx = torch.zeros(b, dtype=torch.int64, device=src.device)
        self.weight = torch.full((b,), 1.0 / b, dtype=torch.float32, device=src.device)
        self.full = True
        self.graph = self._capture()

    def _body(self) -> None:
        xb = self.src.x.index_select(0, self.idx)
        yb = self.src.y.index_select(0, self.idx)
        # cache_enabled=False: autocast's weight-cast cache would otherwise hold tensors from the
        # capture that replays never refresh.
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.amp, cache_enabled=False):
            logits = self.net(xb)
        ce = F.cross_entropy(logits.float(), yb, reduction="none")
        valid = self.weight > 0
        loss = torch.where(valid, ce * self.weight, 0.0).sum()
        loss.backward()
        self.opt.step()
        self.loss_sum.add_(torch.where(valid, ce.detach(), 0.0).sum())

    def _capture(self) -> torch.cuda.CUDAGraph:
        params = [p for group in self.opt.param_groups for p in group["params"]]
        saved_params = [p.detach().clone() for p in params]
        saved_state = {
            p: {k: v.clone() for k, v in self.opt.state[p].items() if isinstance(v, torch.Tensor)} for p in params if p in self.opt.state
        }
        device = self.src.device
        graph = torch.cuda.CUDAGraph()
        try:
            side = torch.cuda.Stream(device)
            side.wait_stream(torch.cuda.current_stream(device))
            with torch.cuda.stream(side):
                for _ in range(_GRAPH_WARMUP_STEPS):
                    self.opt.zero_grad(set_to_none=True)
                    self._body()
            torch.cuda.current_stream(device).wait_stream(side)
            self._restore(params, saved_params, saved_state)
            # Gradients must not exist at capture, so the captured backward writes them instead of
            # accumulating into them on every replay.
            self.opt.zero_grad(set_to_none=True)
            # thread_local: other activities may be using CUDA from their own threads meanwhile.
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                self._body()
        except BaseException:
            # Whatever the warm-up changed is undone, so the eager fallback starts where we were.
            torch.cuda.synchronize(device)
            self._restore(params, saved_params, saved_state)
            self.opt.zero_grad(set_to_none=True)
            raise
        return graph

    @torch.no_grad()
    def _restore(
        self, params: list[torch.Tensor], saved_params: list[torch.Tensor], saved_state: dict[Any, dict[str, torch.Tensor]]
    ) -> None:
        # In place: the graph and the optimizer hold these exact tensors.
        for p, v in zip(params, saved_params, strict=True):
            p.copy_(v)
        for p in params:
            for k, v in self.opt.state.get(p, {}).items():
                if not isinstance(v, torch.Tensor):
                    continue
                if p in saved_state and k in saved_state[p]:
                    v.copy_(saved_state[p][k])
                else:
                    v.zero_()  # a fresh AdamW starts from zero moments and step 0
        self.loss_sum.zero_()

    def __call__(self, idx: torch.Tensor, m: int) -> None:
        if m == self.batch:
            if not self.full:
                self.weight.fill_(1.0 / self.batch)
                self.full = True
            self.idx.copy_(idx)
        else:
            self.idx[:m].copy_(idx)
            self.idx[m:].zero_()
            self.weight[:m].fill_(1.0 / m)
            self.weight[m:].zero_()
            self.full = False
        self.graph.replay()


@torch.no_grad()
def evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> dict[str, float]:
    """Accuracy and log loss (mean negative log-likelihood, probabilities clipped at 1e-15) in fp32,
    as the served ONNX model computes them."""
    was_training = net.training
    net.eval()
    n = len(y)
    nll = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    floor = math.log(LOG_LOSS_EPS)
    for i in range(0, n, _EVAL_CHUNK_ROWS):
        xb = x[i : i + _EVAL_CHUNK_ROWS].to(device, non_blocking=True)
        yb = y[i : i + _EVAL_CHUNK_ROWS].to(device, non_blocking=True)
        logits = net(xb).float()
        logp = torch.log_softmax(logits, dim=1).gather(1, yb[:, None]).squeeze(1)
        nll -= logp.clamp_min(floor).double().sum()
        correct += (logits.argmax(dim=1) == yb).sum()
    net.train(was_training)
    return {"accuracy": correct.item() / n, "logLoss": nll.item() / n}


def train(
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    n_classes: int,
    hp: Hyperparameters,
    *,
    devices: Sequence[torch.device] = (torch.device("cpu"),),
    valid: tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor] | None = None,
    resume: dict[str, Any] | None = None,
    on_epoch: Callable[[EpochRecord, Callable[[], dict[str, Any]]], None] | None = None,
    on_tick: Callable[[Progress], None] | None = None,
    tick_seconds: float = 1.0,
    cuda_graphs: bool | None = None,
    placement: str = "auto",
    chunk_rows: int | None = None,
) -> TrainResult:
    """Trains from scratch, or from `resume` (a state produced by on_epoch's state function).

    on_epoch(record, state) runs after every epoch; state() returns the checkpointable state.
    on_tick(progress) runs between steps at most every tick_seconds (every step when <= 0); raising
    from it stops training there. cuda_graphs None captures a graph on a single CUDA device at any
    batch size (several devices train eagerly under DataParallel): a graph's private pool holds one
    step's activations, which the caching allocator would hold for an eager step anyway."""
    devices = list(devices)
    device = devices[0]
    is_cuda = device.type == "cuda"
    x_t = torch.as_tensor(x, dtype=torch.float32)
    y_t = torch.as_tensor(y).to(torch.int64)
    if x_t.device.type != "cpu":
        x_t, y_t = x_t.cpu(), y_t.cpu()
    n, n_features = x_t.shape
    if n < 1:
        raise ValueError("training needs at least one row")

    if resume is not None:
        start_epoch = int(resume["epoch"])
        history = [EpochRecord.from_json(r) for r in resume["history"]]
        model = build_model(n_features, n_classes, hp, resume)
    else:
        start_epoch, history = 0, []
        mean, scale = fit_standardisation(x_t)
        model = MLP(n_features, n_classes, hp.hidden_units, hp.hidden_layers, mean, scale)
        model.init_weights(hp.seed)

    amp = bf16_supported(device)
    multi = is_cuda and len(devices) > 1
    use_graphs = is_cuda and not multi and cuda_graphs is not False
    device_ctx = torch.cuda.device(device) if is_cuda else contextlib.nullcontext()
    with device_ctx:
        model.to(device)
        # DataParallel splits each batch across the devices an activity was given. Untested on
        # multi-GPU machines here (the check machine has one GPU); no CUDA graphs in that mode.
        net: nn.Module = nn.DataParallel(model, device_ids=[d.index for d in devices]) if multi else model
        # capturable keeps AdamW's step count on the device, which graph capture needs.
        opt = torch.optim.AdamW(model.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay, capturable=is_cuda)
        if resume is not None:
            _load_optimizer(opt, resume["optimizer"])

        t0 = time.perf_counter()
        epochs_run = 0
        step_fn: _EagerStep | _GraphStep | None = None
        src = loss_sum = xv = yv = None  # the device-side working set, released below
        if start_epoch < hp.epochs:
            batch = min(hp.batch_size, n)
            src = _Source(x_t, y_t, device, batch, hp.seed, placement, chunk_rows)
            xv = yv = None
            if valid is not None:
                xv = torch.as_tensor(valid[0], dtype=torch.float32)
                yv = torch.as_tensor(valid[1]).to(torch.int64)
                if is_cuda:
                    if len(yv) * (n_features * 4 + 8) <= free_device_memory(device) // 4:
                        xv, yv = xv.pin_memory().to(device, non_blocking=True), yv.pin_memory().to(device, non_blocking=True)
                    else:
                        xv, yv = xv.pin_memory(), yv.pin_memory()
            loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            step_fn = _EagerStep(net, opt, src, amp, loss_sum)
            if use_graphs:
                try:
                    step_fn = _GraphStep(net, opt, src, amp, loss_sum)
                except Exception as err:  # noqa: BLE001 - any capture failure must degrade, not fail
                    log.warning("CUDA graph capture failed; training eagerly", extra={"fields": {"error": repr(err)}})
                    use_graphs = False
            net.train()
            steps = math.ceil(n / batch)
            next_tick = time.monotonic() + tick_seconds
            for epoch in range(start_epoch + 1, hp.epochs + 1):
                e0 = time.perf_counter()
                loss_sum.zero_()
                last = history[-1].loss if history else None
                for step, (idx, m) in enumerate(src.batches(epoch), start=1):
                    step_fn(idx, m)
                    if on_tick is not None:
                        now = time.monotonic()
                        if tick_seconds <= 0 or now >= next_tick:
                            next_tick = now + tick_seconds
                            on_tick(Progress(epoch, hp.epochs, step, steps, last))
                loss = loss_sum.item() / n
                if not math.isfinite(loss):
                    raise TrainingDiverged(epoch, loss)
                validation = evaluate(net, xv, yv, device) if xv is not None and yv is not None else None
                record = EpochRecord(epoch, loss, validation, time.perf_counter() - e0)
                history.append(record)
                epochs_run += 1
                if on_epoch is not None:
                    on_epoch(record, _state_fn(epoch, history, model, opt, hp))
        else:
            use_graphs = False
        seconds = time.perf_counter() - t0 if epochs_run else 0.0

    cpu_model = build_model(n_features, n_classes, hp, {"model": model.state_dict(), "mean": model.mean, "scale": model.scale})
    cpu_model.eval()
    if is_cuda:
        # Hand the data, the graph's pool and the optimizer state back to the device for the next
        # training in this process (torch would otherwise keep them cached).
        del model, net, opt, src, step_fn, loss_sum, xv, yv
        torch.cuda.empty_cache()
    return TrainResult(
        model=cpu_model,
        history=history,
        resumed_from_epoch=start_epoch,
        epochs_run=epochs_run,
        seconds=seconds,
        device=describe_devices(devices),
        precision="bf16" if amp else "fp32",
        cuda_graphs=use_graphs,
    )


def _state_fn(
    epoch: int, history: list[EpochRecord], model: MLP, opt: torch.optim.Optimizer, hp: Hyperparameters
) -> Callable[[], dict[str, Any]]:
    def state() -> dict[str, Any]:
        return {
            "epoch": epoch,
            "history": [r.to_json() for r in history],
            "model": _to_cpu(model.state_dict()),
            "optimizer": _to_cpu(opt.state_dict()),
            "mean": _to_cpu(model.mean),
            "scale": _to_cpu(model.scale),
            # The run's only randomness is derived, not carried: weights from `seed`, epoch e's
            # shuffle from `seed + e`; recorded so a reader can see what the next epoch will draw.
            "rng": {"seed": hp.seed, "nextShuffleSeed": hp.seed + epoch + 1},
        }

    return state
