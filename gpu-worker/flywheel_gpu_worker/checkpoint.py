"""Atomic checkpoint files. A worker can be killed at any instruction (the GPU attempt's heartbeat
times out and the workflow moves the training elsewhere), so a reader must only ever see either the
previous complete checkpoint or the new complete one."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Any

import torch


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write a temp file beside the target, fsync it, rename over the target, fsync the folder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        # Only still there when something failed before the rename.
        tmp.unlink(missing_ok=True)
    # The rename itself is only durable once the directory entry is.
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    write_atomic(path, buf.getvalue())


def load_checkpoint(path: str | Path, map_location: torch.device | str) -> dict[str, Any] | None:
    """None when there is no checkpoint. weights_only: a checkpoint is data, never code to run."""
    p = Path(path)
    if not p.exists():
        return None
    return torch.load(p, map_location=map_location, weights_only=True)
