"""Every training in a fresh process of its own, which exits when the training ends.

Why not threads in the worker: torch (CUDA build) is over 500 MB resident as soon as it is imported
and never gives that back, a CUDA context holds GPU memory until its process exits, and a crash in
native code (a CUDA fault, the OOM killer) should cost one attempt, not the worker. The worker
process itself only polls Temporal; each activity task is submitted here, runs in a spawned
process (spawn, never fork: the worker has Temporal's Rust threads running), and Temporal's
shared-state manager carries heartbeats and cancellation across the process boundary.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import multiprocessing
import multiprocessing.managers
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """A training whose worker was killed must not go on writing checkpoints beside the retry's."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass  # the ppid check between steps (training_run.py) still stops it


def _init_training_process(log_setup: Callable[[str], None], level: str) -> None:
    die_with_parent()
    log_setup(level)


class ProcessPerTaskExecutor(concurrent.futures.Executor):
    """An executor that gives each submitted call a new single-use process. A call whose process
    dies fails alone (BrokenProcessPool, which Temporal retries) and later calls are unaffected."""

    def __init__(self, log_setup: Callable[[str], None], log_level: str) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._initargs = (log_setup, log_level)
        self._pools: set[concurrent.futures.ProcessPoolExecutor] = set()
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new trainings after shutdown")
            pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=self._ctx, initializer=_init_training_process, initargs=self._initargs
            )
            self._pools.add(pool)
        future = pool.submit(fn, *args, **kwargs)

        def release(_: concurrent.futures.Future[Any]) -> None:
            with self._lock:
                self._pools.discard(pool)
            # Not from this callback's thread: shutdown joins the pool's own management thread.
            threading.Thread(target=pool.shutdown, kwargs={"wait": True}, daemon=True).start()

        future.add_done_callback(release)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools)
        for pool in pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def start_manager() -> multiprocessing.managers.SyncManager:
    """The manager process behind heartbeats, cancellation events and the device leases."""
    manager = multiprocessing.managers.SyncManager(ctx=multiprocessing.get_context("spawn"))
    manager.start(initializer=die_with_parent)
    return manager

