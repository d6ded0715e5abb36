import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from flywheel_gpu_worker.hyperparameters import Hyperparameters
from flywheel_gpu_worker.model import MLP
from flywheel_gpu_worker.onnx_export import (
    IR_VERSION,
    OPSET,
    PARITY_TOLERANCE,
    ExportError,
    ParityError,
    build_onnx,
    check_parity,
)
from flywheel_gpu_worker.trainer import train

from .conftest import separable


@pytest.fixture(scope="module")
def trained() -> tuple[MLP, np.ndarray]:
    x, y = separable(n=400, d=5, seed=3)
    y = (y + (x[:, 0] > 0)).astype(np.int64)  # three classes
    x = x.astype(np.float32)
    r = train(x, y, 3, Hyperparameters(hidden_units=12, hidden_layers=3, epochs=3, batch_size=50))
    return r.model, x


def test_graph_signature_and_metadata(trained: tuple[MLP, np.ndarray]) -> None:
    model, _ = trained
    proto = build_onnx(model, ["a", "b", "é"], {"flywheel.model": "m", "flywheel.family": "mlp"})
    onnx.checker.check_model(proto, full_check=True)
    assert proto.ir_version == IR_VERSION == 8
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", OPSET)] and OPSET == 17
    assert proto.producer_name == "flywheel-gpu-worker"
    g = proto.graph

    def dims(v: onnx.ValueInfoProto) -> list[object]:
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert [(i.name, i.type.tensor_type.elem_type, dims(i)) for i in g.input] == [("features", onnx.TensorProto.FLOAT, ["batch", 5])]
    assert [(o.name, o.type.tensor_type.elem_type, dims(o)) for o in g.output] == [
        ("probabilities", onnx.TensorProto.FLOAT, ["batch", 3]),
        ("label", onnx.TensorProto.INT64, ["batch"]),
    ]
    ops = [n.op_type for n in g.node]
    assert ops == ["Sub", "Div"] + ["MatMul", "Add", "Relu"] * 3 + ["MatMul", "Add", "Softmax", "ArgMax"]
    assert all(i.data_type == onnx.TensorProto.FLOAT for i in g.initializer)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta == {
        "flywheel.model": "m",
        "flywheel.family": "mlp",
        "flywheel.classes": '["a","b","é"]',
        "flywheel.n_features": "5",
        "flywheel.hidden_units": "12",
        "flywheel.hidden_layers": "3",
    }
    assert json.loads(meta["flywheel.classes"]) == ["a", "b", "é"]


def test_parity_within_tolerance(trained: tuple[MLP, np.ndarray]) -> None:
    model, x = trained
    data = build_onnx(model, ["a", "b", "c"]).SerializeToString()
    parity = check_parity(data, model, x)
    assert parity.rows == 400 and parity.tolerance == PARITY_TOLERANCE == 1e-4
    assert 0 <= parity.max_abs_diff <= PARITY_TOLERANCE
    s = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    probs, label = s.run(None, {"features": x[:20]})
    with torch.no_grad():
        logits = model(torch.from_numpy(x[:20]))
    assert label.dtype == np.int64 and label.tolist() == logits.argmax(1).tolist()
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


def test_parity_failure_names_both_numbers(trained: tuple[MLP, np.ndarray]) -> None:
    model, x = trained
    data = build_onnx(model, ["a", "b", "c"]).SerializeToString()
    other = MLP(5, 3, 12, 3, model.mean, model.scale)
    other.init_weights(99)
    with pytest.raises(ParityError, match=r"differ by .* on 400 training rows, more than the tolerance 0.0001") as err:
        check_parity(data, other, x)
    assert err.value.max_abs_diff > PARITY_TOLERANCE


def test_metadata_conflicts_are_refused(trained: tuple[MLP, np.ndarray]) -> None:
    model, _ = trained
    with pytest.raises(ExportError, match=r"metadata 'flywheel.n_features' is derived from the model"):
        build_onnx(model, ["a", "b", "c"], {"flywheel.n_features": "4"})
    with pytest.raises(ExportError, match=r"4 class names for a model with 3 outputs"):
        build_onnx(model, ["a", "b", "c", "d"])
