"""The MLP classifier. Standardisation is part of the module (as buffers), exactly as it is part of the
exported ONNX graph, so the trained model, the checkpoint and the served model all take raw features."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch
from torch import nn


class MLP(nn.Module):
    # Declared for type checkers: register_buffer and ModuleList hide these types.
    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden_units: int,
        hidden_layers: int,
        mean: np.ndarray | torch.Tensor | None = None,
        scale: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.hidden_units = hidden_units
        self.hidden_layers = hidden_layers
        mean_t = torch.zeros(n_features) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        scale_t = torch.ones(n_features) if scale is None else torch.as_tensor(scale, dtype=torch.float32)
        self.register_buffer("mean", mean_t.clone().reshape(n_features))
        self.register_buffer("scale", scale_t.clone().reshape(n_features))
        widths = [n_features] + [hidden_units] * hidden_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.out = nn.Linear(hidden_units, n_classes)

    @torch.no_grad()
    def init_weights(self, seed: int) -> None:
        """Seeded from a private generator: worker threads share torch's global RNG, so drawing from it
        would make one training's initial weights depend on what another was doing."""
        g = torch.Generator(device="cpu").manual_seed(seed)
        for layer in self.linear_layers():
            # He-uniform for ReLU layers, zero bias.
            bound = math.sqrt(6.0 / layer.in_features)
            layer.weight.copy_(torch.empty_like(layer.weight, device="cpu").uniform_(-bound, bound, generator=g))
            layer.bias.zero_()
        bound = 1.0 / math.sqrt(self.out.in_features)
        self.out.weight.copy_(torch.empty_like(self.out.weight, device="cpu").uniform_(-bound, bound, generator=g))
        self.out.bias.zero_()

    def linear_layers(self) -> list[nn.Linear]:
        """The hidden layers, typed: a ModuleList yields plain Modules to a type checker."""
        return [cast(nn.Linear, m) for m in self.hidden]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Division rather than multiplying by 1/scale: the ONNX graph uses Div, and parity is checked.
        z = (x - self.mean) / self.scale
        for layer in self.hidden:
            z = torch.relu(layer(z))
        return self.out(z)

    def layers(self) -> list[nn.Linear]:
        return [*self.hidden, self.out]
