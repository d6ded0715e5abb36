import concurrent.futures
import os

import pytest

from flywheel_gpu_worker.training_processes import ProcessPerTaskExecutor


def _pid() -> int:
    return os.getpid()


def _crash() -> None:
    os._exit(3)  # as the OOM killer or a CUDA fault would end it: no exception, no cleanup


def _no_logging(_level: str) -> None:
    pass


def test_each_call_gets_a_fresh_process_and_a_crash_costs_only_its_own_call() -> None:
    executor = ProcessPerTaskExecutor(_no_logging, "info")
    try:
        first = executor.submit(_pid).result(60)
        second = executor.submit(_pid).result(60)
        assert first != second and os.getpid() not in (first, second)
        with pytest.raises(concurrent.futures.process.BrokenProcessPool):
            executor.submit(_crash).result(60)
        # The executor itself is not broken: the next training starts as usual.
        assert executor.submit(_pid).result(60) not in (first, second)
    finally:
        executor.shutdown()


def test_no_calls_after_shutdown() -> None:
    executor = ProcessPerTaskExecutor(_no_logging, "info")
    executor.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(_pid)


def test_the_worker_modules_do_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, flywheel_gpu_worker.worker, flywheel_gpu_worker.activities; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
