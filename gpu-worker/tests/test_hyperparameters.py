import pytest

from flywheel_gpu_worker.hyperparameters import HyperparameterError, Hyperparameters, parse_hyperparameters


def test_defaults() -> None:
    hp = parse_hyperparameters(None)
    assert hp == Hyperparameters(
        hidden_units=256, hidden_layers=2, learning_rate=0.001, weight_decay=0.01, epochs=20, batch_size=1024, seed=42
    )
    assert parse_hyperparameters({}) == hp
    assert hp.to_json() == {
        "hiddenUnits": 256,
        "hiddenLayers": 2,
        "learningRate": 0.001,
        "weightDecay": 0.01,
        "epochs": 20,
        "batchSize": 1024,
        "seed": 42,
    }


def test_values_and_integral_floats() -> None:
    hp = parse_hyperparameters({"hiddenUnits": 8, "epochs": 3.0, "learningRate": 1, "weightDecay": 0, "seed": 2**32 - 1})
    assert (hp.hidden_units, hp.epochs, hp.learning_rate, hp.weight_decay, hp.seed) == (8, 3, 1.0, 0.0, 2**32 - 1)
    assert isinstance(hp.epochs, int) and isinstance(hp.learning_rate, float)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("hiddenUnits", 0, "hyperparameter hiddenUnits must be an integer >= 4 and <= 4096 (got 0)"),
        ("hiddenUnits", 4097, "hyperparameter hiddenUnits must be an integer >= 4 and <= 4096 (got 4097)"),
        ("hiddenLayers", 9, "hyperparameter hiddenLayers must be an integer >= 1 and <= 8 (got 9)"),
        ("learningRate", 0, "hyperparameter learningRate must be a number > 0 and <= 1 (got 0)"),
        ("learningRate", 1.5, "hyperparameter learningRate must be a number > 0 and <= 1 (got 1.5)"),
        ("weightDecay", -0.1, "hyperparameter weightDecay must be a number >= 0 and <= 1 (got -0.1)"),
        ("epochs", 10001, "hyperparameter epochs must be an integer >= 1 and <= 10000 (got 10001)"),
        ("batchSize", 0, "hyperparameter batchSize must be an integer >= 1 and <= 1048576 (got 0)"),
        ("seed", -1, "hyperparameter seed must be an integer >= 0 and <= 4294967295 (got -1)"),
        ("seed", 2**32, "hyperparameter seed must be an integer >= 0 and <= 4294967295 (got 4294967296)"),
        ("epochs", 2.5, "hyperparameter epochs must be an integer >= 1 and <= 10000 (got 2.5)"),
        ("epochs", "5", 'hyperparameter epochs must be an integer >= 1 and <= 10000 (got "5")'),
        ("epochs", True, "hyperparameter epochs must be an integer >= 1 and <= 10000 (got true)"),
        ("learningRate", float("nan"), "hyperparameter learningRate must be a number > 0 and <= 1 (got NaN)"),
    ],
)
def test_range_errors(key: str, value: object, message: str) -> None:
    with pytest.raises(HyperparameterError) as err:
        parse_hyperparameters({key: value})
    assert str(err.value) == message


def test_unknown_key() -> None:
    with pytest.raises(HyperparameterError) as err:
        parse_hyperparameters({"l2": 0.1})
    assert str(err.value).startswith("unknown hyperparameter 'l2' for family mlp (known: hiddenUnits, hiddenLayers,")
