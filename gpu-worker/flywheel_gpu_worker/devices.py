"""Which device the worker trains on, and which device(s) each concurrent activity gets."""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator

import torch


class DeviceError(RuntimeError):
    pass


def resolve_device(choice: str) -> str:
    """auto|cuda|cpu -> cuda|cpu. Asking for cuda without one is an error, never a silent CPU run:
    the GPU queue must only be polled by workers that have a GPU."""
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"--device cuda, but torch {torch.__version__} sees no CUDA device "
            f"(torch built for CUDA {torch.version.cuda or 'none'}; check the driver and CUDA_VISIBLE_DEVICES)"
        )
    if choice not in ("cuda", "cpu"):
        raise DeviceError(f"--device must be auto, cuda or cpu (got {choice!r})")
    return choice


def default_concurrency(kind: str) -> int:
    return max(1, torch.cuda.device_count()) if kind == "cuda" else 1


class DevicePool:
    """Splits the visible devices between `slots` concurrent activities: with as many slots as GPUs,
    one GPU each; with fewer, a group each (trained data-parallel); with more, GPUs are shared
    round-robin. Temporal never runs more than `slots` activities at once, so a lease never waits."""

    def __init__(self, groups: list[list[torch.device]]) -> None:
        self._free: queue.Queue[list[torch.device]] = queue.Queue()
        for g in groups:
            self._free.put(g)
        self.groups = groups

    @staticmethod
    def for_kind(kind: str, slots: int) -> DevicePool:
        if kind != "cuda":
            return DevicePool([[torch.device("cpu")] for _ in range(slots)])
        n = torch.cuda.device_count()
        if slots >= n:
            return DevicePool([[torch.device("cuda", i % n)] for i in range(slots)])
        per = n // slots
        return DevicePool([[torch.device("cuda", i * per + j) for j in range(per)] for i in range(slots)])

    @contextlib.contextmanager
    def lease(self) -> Iterator[list[torch.device]]:
        group = self._free.get()
        try:
            yield group
        finally:
            self._free.put(group)
