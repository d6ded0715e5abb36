"""ONNX export of the trained MLP, written node by node with onnx.helper rather than torch.onnx: the
GPU machine's torch version is not ours to choose, and torch.onnx's exporter (TorchScript tracing vs
dynamo) and its output graphs have changed across versions. Building the graph from the weights gives
the same graph whatever torch trained it, in the layout the TypeScript exporter uses:

  features ─ Sub(mean) ─ Div(scale) ─ [MatMul(W_i) ─ Add(b_i) ─ Relu] × layers ─ MatMul ─ Add = logits
  logits ┬ Softmax(axis=1) → probabilities
         └ ArgMax(axis=1)  → label
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from . import __version__
from .errors import ExportError, ParityError
from .model import MLP

IR_VERSION = 8
OPSET = 17
INPUT = "features"
PROBABILITIES = "probabilities"
LABEL = "label"
PARITY_ROWS = 1024
# Both sides compute in fp32 but sum the matmuls in different orders (MKL/oneDNN vs ONNX Runtime's
# MLAS), which moves probabilities by ~1e-6; 1e-4 is two orders above that and still far below any
# difference that would change a served decision.
PARITY_TOLERANCE = 1e-4

META_FAMILY = "flywheel.family"
META_CLASSES = "flywheel.classes"
META_N_FEATURES = "flywheel.n_features"
META_HIDDEN_UNITS = "flywheel.hidden_units"
META_HIDDEN_LAYERS = "flywheel.hidden_layers"


@dataclass(frozen=True)
class Parity:
    max_abs_diff: float
    tolerance: float
    rows: int

    def to_json(self) -> dict[str, float | int]:
        return {"maxAbsDiff": self.max_abs_diff, "tolerance": self.tolerance, "rows": self.rows}


def _f32(name: str, t: torch.Tensor) -> TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(t.detach().cpu().float().numpy()), name)


def own_metadata(
    n_features: int,
    classes: list[str],
    hidden_units: int,
    hidden_layers: int,
    metadata: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The model's metadata_props: the caller's entries plus the ones the exporter derives, which
    the gateway reads to serve the model. Raises ExportError on a contradicting caller entry, so the
    activity can check a request before training rather than after."""
    own = {
        META_FAMILY: "mlp",
        # Compact separators and unescaped unicode: byte-identical to JSON.stringify on the TypeScript side.
        META_CLASSES: json.dumps(list(classes), separators=(",", ":"), ensure_ascii=False),
        META_N_FEATURES: str(n_features),
        META_HIDDEN_UNITS: str(hidden_units),
        META_HIDDEN_LAYERS: str(hidden_layers),
    }
    props: dict[str, str] = {}
    for key, value in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ExportError(f"metadata must map strings to strings (got {key!r}: {value!r})")
        # A differing caller value would make the artefact describe itself inconsistently.
        if key in own and value != own[key]:
            raise ExportError(f"metadata {key!r} is derived from the model and cannot be set to {value!r}")
        props[key] = value
    props.update(own)
    return props


def build_onnx(model: MLP, classes: list[str], metadata: Mapping[str, str] | None = None) -> onnx.ModelProto:
    """The model as an ONNX ModelProto, checked by onnx.checker."""
    if len(classes) != model.n_classes:
        raise ExportError(f"{len(classes)} class names for a model with {model.n_classes} outputs")
    props = own_metadata(model.n_features, classes, model.hidden_units, model.hidden_layers, metadata)

    inits = [_f32("mean", model.mean), _f32("scale", model.scale)]
    nodes = [
        helper.make_node("Sub", [INPUT, "mean"], ["centered"], name="center"),
        helper.make_node("Div", ["centered", "scale"], ["standardized"], name="standardize"),
    ]
    prev = "standardized"
    for i, layer in enumerate(model.linear_layers()):
        # torch keeps Linear weights as [out, in]; MatMul wants [in, out].
        inits += [_f32(f"W{i}", layer.weight.t()), _f32(f"b{i}", layer.bias)]
        nodes += [
            helper.make_node("MatMul", [prev, f"W{i}"], [f"h{i}_mm"], name=f"hidden{i}_matmul"),
            helper.make_node("Add", [f"h{i}_mm", f"b{i}"], [f"h{i}_pre"], name=f"hidden{i}_bias"),
            helper.make_node("Relu", [f"h{i}_pre"], [f"h{i}"], name=f"hidden{i}_relu"),
        ]
        prev = f"h{i}"
    inits += [_f32("W_out", model.out.weight.t()), _f32("b_out", model.out.bias)]
    nodes += [
        helper.make_node("MatMul", [prev, "W_out"], ["out_mm"], name="output_matmul"),
        helper.make_node("Add", ["out_mm", "b_out"], ["logits"], name="output_bias"),
        helper.make_node("Softmax", ["logits"], [PROBABILITIES], name="softmax", axis=1),
        # On the logits: same order as the probabilities, without depending on Softmax's rounding
        # when two classes are nearly tied.
        helper.make_node("ArgMax", ["logits"], [LABEL], name="argmax", axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        inputs=[helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", model.n_features])],
        outputs=[
            helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, ["batch", model.n_classes]),
            helper.make_tensor_value_info(LABEL, TensorProto.INT64, ["batch"]),
        ],
        initializer=inits,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="flywheel-gpu-worker",
        producer_version=__version__,
    )
    proto.ir_version = IR_VERSION
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def check_parity(onnx_bytes: bytes, model: MLP, x: np.ndarray, tolerance: float = PARITY_TOLERANCE) -> Parity:
    """Runs up to PARITY_ROWS rows through ONNX Runtime and the fp32 PyTorch model on the CPU; raises
    ParityError when the probabilities differ by more than the tolerance."""
    rows = np.ascontiguousarray(x[:PARITY_ROWS], dtype=np.float32)
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    onnx_probs = session.run([PROBABILITIES], {INPUT: rows})[0]
    cpu = model.to("cpu").float().eval()
    with torch.no_grad():
        torch_probs = torch.softmax(cpu(torch.from_numpy(rows)), dim=1).numpy()
    diff = float(np.max(np.abs(onnx_probs - torch_probs))) if len(rows) else 0.0
    if not diff <= tolerance:  # also catches NaN
        raise ParityError(diff, tolerance, len(rows))
    return Parity(diff, tolerance, len(rows))
