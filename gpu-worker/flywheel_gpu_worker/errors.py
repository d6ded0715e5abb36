"""Failures the activity maps to Temporal error types. Kept free of torch so the worker process,
which only schedules trainings into child processes, never has to import it."""

from __future__ import annotations


class ExportError(ValueError):
    """The caller's metadata contradicts what the exporter derives from the model."""


class ParityError(Exception):
    def __init__(self, max_abs_diff: float, tolerance: float, rows: int) -> None:
        super().__init__(
            f"ONNX and PyTorch probabilities differ by {max_abs_diff:.3g} on {rows} training rows, more than the tolerance {tolerance:g}"
        )
        self.max_abs_diff = max_abs_diff
        self.tolerance = tolerance
        self.rows = rows


class TrainingDiverged(Exception):
    def __init__(self, epoch: int, loss: float) -> None:
        super().__init__(f"training diverged at epoch {epoch} (loss {loss}): lower learningRate")
        self.epoch = epoch
        self.loss = loss
