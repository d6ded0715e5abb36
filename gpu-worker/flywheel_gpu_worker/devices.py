"""Which device the worker trains on, and which device(s) each concurrent training gets.

The worker process never imports torch (its import alone is over 500 MB of resident memory with the
CUDA build): what CUDA offers is asked once of a short-lived `python -c "import torch"` process, and
devices travel to the training processes as strings ("cuda:0", "cpu").
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_PROBE = (
    "import json, torch\n"
    "n = torch.cuda.device_count() if torch.cuda.is_available() else 0\n"
    "print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda, "
    "'gpus': [torch.cuda.get_device_name(i) for i in range(n)]}))\n"
)


class DeviceError(RuntimeError):
    pass


@dataclass(frozen=True)
class CudaProbe:
    torch: str
    cuda: str | None
    gpus: list[str]


def probe_cuda(python: str = sys.executable) -> CudaProbe:
    """What torch sees on this machine, from a child process that exits right after."""
    done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise DeviceError(f"cannot import torch: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
    d = json.loads(done.stdout.strip().splitlines()[-1])
    return CudaProbe(torch=d["torch"], cuda=d["cuda"], gpus=list(d["gpus"]))


def resolve_device(choice: str, probe: CudaProbe) -> str:
    """auto|cuda|cpu -> cuda|cpu. Asking for cuda without one is an error, never a silent CPU run:
    the GPU queue must only be polled by workers that have a GPU."""
    if choice not in ("auto", "cuda", "cpu"):
        raise DeviceError(f"--device must be auto, cuda or cpu (got {choice!r})")
    if choice == "auto":
        return "cuda" if probe.gpus else "cpu"
    if choice == "cuda" and not probe.gpus:
        raise DeviceError(
            f"--device cuda, but torch {probe.torch} sees no CUDA device "
            f"(torch built for CUDA {probe.cuda or 'none'}; check the driver and CUDA_VISIBLE_DEVICES)"
        )
    return choice


def default_concurrency(kind: str, gpu_count: int) -> int:
    return max(1, gpu_count) if kind == "cuda" else 1


class DevicePool:
    """Splits the visible devices between `slots` concurrent trainings: with as many slots as GPUs,
    one GPU each; with fewer, a group each (trained data-parallel); with more, GPUs are shared
    round-robin. Temporal never runs more than `slots` activities at once, so a lease never waits.
    The free list may be a multiprocessing manager's queue, so training processes lease from it."""

    def __init__(self, groups: list[list[str]], free: Any = None) -> None:
        self._free = free if free is not None else queue.Queue()
        for g in groups:
            self._free.put(g)
        self.groups = groups

    @staticmethod
    def for_kind(kind: str, slots: int, gpu_count: int | None = None, free: Any = None) -> DevicePool:
        if kind != "cuda":
            return DevicePool([["cpu"] for _ in range(slots)], free)
        if gpu_count is None:
            import torch

            gpu_count = torch.cuda.device_count()
        n = gpu_count
        if slots >= n:
            return DevicePool([[f"cuda:{i % n}"] for i in range(slots)], free)
        per = n // slots
        return DevicePool([[f"cuda:{i * per + j}" for j in range(per)] for i in range(slots)], free)

    @contextlib.contextmanager
    def lease(self) -> Iterator[list[Any]]:
        """torch.device objects, imported here: leases are taken where training runs."""
        import torch

        group = self._free.get()
        try:
            yield [torch.device(d) for d in group]
        finally:
            self._free.put(group)
