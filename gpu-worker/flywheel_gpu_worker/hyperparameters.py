"""MLP hyperparameters as the workflows send them (camelCase JSON), checked before any data is read so
that a bad request fails in milliseconds with a message the CLI can show as is."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class HyperparameterError(ValueError):
    """One line naming the parameter, its range and the value got."""


@dataclass(frozen=True)
class _Spec:
    attr: str
    integer: bool
    lo: float
    hi: float
    lo_inclusive: bool = True

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        lo_op = ">=" if self.lo_inclusive else ">"
        return f"{kind} {lo_op} {_fmt(self.lo)} and <= {_fmt(self.hi)}"


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# JSON name -> spec. Ranges mirror the TypeScript edge checks so a request that passed the CLI
# cannot fail here for a different reason.
_SPECS: dict[str, _Spec] = {
    "hiddenUnits": _Spec("hidden_units", True, 4, 4096),
    "hiddenLayers": _Spec("hidden_layers", True, 1, 8),
    "learningRate": _Spec("learning_rate", False, 0, 1, lo_inclusive=False),
    "weightDecay": _Spec("weight_decay", False, 0, 1),
    "epochs": _Spec("epochs", True, 1, 10000),
    "batchSize": _Spec("batch_size", True, 1, 1048576),
    "seed": _Spec("seed", True, 0, 2**32 - 1),
}


@dataclass(frozen=True)
class Hyperparameters:
    hidden_units: int = 256
    hidden_layers: int = 2
    learning_rate: float = 0.001
    weight_decay: float = 0.01
    epochs: int = 20
    batch_size: int = 1024
    seed: int = 42

    def to_json(self) -> dict[str, int | float]:
        return {name: getattr(self, spec.attr) for name, spec in _SPECS.items()}


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _coerce(name: str, spec: _Spec, value: Any) -> int | float:
    bad = HyperparameterError(f"hyperparameter {name} must be {spec.describe()} (got {_show(value)})")
    # bool is an int in Python, but true/false is never a meaningful size or rate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if isinstance(value, float):
        if not math.isfinite(value):
            raise bad
        if spec.integer:
            # JSON from JavaScript may spell an integer as 20.0; 2.5 is still wrong.
            if not value.is_integer():
                raise bad
            value = int(value)
    v = value if spec.integer else float(value)
    below = v < spec.lo if spec.lo_inclusive else v <= spec.lo
    if below or v > spec.hi:
        raise HyperparameterError(f"hyperparameter {name} must be {spec.describe()} (got {_fmt(v)})")
    return v


def parse_hyperparameters(raw: Mapping[str, Any] | None) -> Hyperparameters:
    """Defaults for what is absent; raises HyperparameterError on the first unknown key or bad value."""
    if raw is None:
        return Hyperparameters()
    if not isinstance(raw, Mapping):
        raise HyperparameterError(f"hyperparameters must be a JSON object (got {type(raw).__name__})")
    for key in raw:
        if key not in _SPECS:
            raise HyperparameterError(f"unknown hyperparameter {key!r} for family mlp (known: {', '.join(_SPECS)})")
    values = {spec.attr: _coerce(name, spec, raw[name]) for name, spec in _SPECS.items() if name in raw}
    # Each value was coerced to its field's type by _coerce; the dict's type cannot say which is which.
    return Hyperparameters(**values)  # type: ignore[arg-type]
