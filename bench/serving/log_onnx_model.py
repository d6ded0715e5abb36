"""Logs an ONNX file as an MLflow `onnx` flavor model and prints its models URI.

The baseline of bench/serving: `mlflow models serve` then serves exactly the bytes the gateway serves.
Usage: .venv/bin/python bench/serving/log_onnx_model.py MODEL.onnx EXPERIMENT
(MLFLOW_TRACKING_URI says which server.)
"""
import sys

import mlflow
import numpy as np
import onnx
import onnxruntime
from mlflow.models import infer_signature


def main() -> None:
    path, experiment = sys.argv[1], sys.argv[2]
    model = onnx.load(path)
    graph_input = model.graph.input[0]
    n_features = graph_input.type.tensor_type.shape.dim[1].dim_value
    # A float32 tensor signature: without it the scoring server passes JSON integers on as int64,
    # which the model refuses.
    # Outputs too: MLServer's MLflow runtime (mlserver-mlflow 1.7) refuses a signature without them.
    example = {graph_input.name: np.zeros((1, n_features), dtype=np.float32)}
    session = onnxruntime.InferenceSession(model.SerializeToString())
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, example)))
    signature = infer_signature(example, outputs)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="onnx-baseline") as run:
        mlflow.onnx.log_model(model, name="model", signature=signature)
    print(f"runs:/{run.info.run_id}/model")


if __name__ == "__main__":
    main()
