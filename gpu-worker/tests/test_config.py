from pathlib import Path

import pytest

from flywheel_gpu_worker import config as config_module
from flywheel_gpu_worker.config import DEFAULT_DATA_DIR, ConfigError, load_config


def test_defaults() -> None:
    c = load_config({})
    assert c.temporal_address == "127.0.0.1:7233"
    assert c.temporal_namespace == "default"
    assert c.task_queue("cuda") == "flywheel-gpu"
    assert c.task_queue("cpu") == "flywheel-cpu-torch"
    assert c.data_dir == DEFAULT_DATA_DIR
    if Path(config_module.__file__).resolve().parents[1] == Path(__file__).resolve().parents[1]:
        # From the source tree: the repository root's .flywheel, as the TypeScript side resolves it.
        assert DEFAULT_DATA_DIR == Path(__file__).resolve().parents[2] / ".flywheel"
    assert c.max_concurrent_activities is None
    assert c.metrics_port == 9466
    assert c.log_level == "info"
    assert c.shutdown_grace_seconds == 30


def test_overrides(tmp_path: Path) -> None:
    c = load_config(
        {
            "TEMPORAL_ADDRESS": "temporal:7233",
            "TEMPORAL_NAMESPACE": "ml",
            "FLYWHEEL_TASK_QUEUE_GPU": "g",
            "FLYWHEEL_TASK_QUEUE_CPU_TORCH": "c",
            "FLYWHEEL_DATA_DIR": str(tmp_path),
            "FLYWHEEL_GPU_MAX_CONCURRENT_ACTIVITIES": "3",
            "FLYWHEEL_GPU_WORKER_METRICS_PORT": "9999",
            "FLYWHEEL_LOG_LEVEL": "debug",
            "FLYWHEEL_SHUTDOWN_GRACE_SECONDS": "45",
        }
    )
    assert c.shutdown_grace_seconds == 45
    assert (c.temporal_address, c.temporal_namespace, c.task_queue("cuda"), c.task_queue("cpu")) == ("temporal:7233", "ml", "g", "c")
    assert c.data_dir == tmp_path.resolve()
    assert (c.max_concurrent_activities, c.metrics_port, c.log_level) == (3, 9999, "debug")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TEMPORAL_ADDRESS", "nohost", "TEMPORAL_ADDRESS must be host:port"),
        ("FLYWHEEL_LOG_LEVEL", "loud", "FLYWHEEL_LOG_LEVEL must be one of debug|info|warn|error (got 'loud')"),
        ("FLYWHEEL_GPU_MAX_CONCURRENT_ACTIVITIES", "0", "FLYWHEEL_GPU_MAX_CONCURRENT_ACTIVITIES must be an integer >= 1 and <= 64 (got 0)"),
        ("FLYWHEEL_GPU_WORKER_METRICS_PORT", "http", "FLYWHEEL_GPU_WORKER_METRICS_PORT must be an integer >= 0 and <= 65535 (got 'http')"),
        ("FLYWHEEL_TASK_QUEUE_GPU", " ", "FLYWHEEL_TASK_QUEUE_GPU must not be empty"),
        ("FLYWHEEL_SHUTDOWN_GRACE_SECONDS", "-1", "FLYWHEEL_SHUTDOWN_GRACE_SECONDS must be an integer >= 0 and <= 3600 (got -1)"),
    ],
)
def test_errors_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config({name: value})
    assert message in str(err.value)


def test_temporal_plain_text_by_default() -> None:
    from flywheel_gpu_worker.config import temporal_connect_options

    c = load_config({})
    assert c.temporal_tls is None and c.temporal_api_key is None
    assert temporal_connect_options(c) == {}


def test_temporal_tls_files_become_the_sdk_tls_config(tmp_path: Path) -> None:
    from temporalio.service import TLSConfig

    from flywheel_gpu_worker.config import temporal_connect_options

    for name in ("ca.pem", "c.pem", "c.key"):
        (tmp_path / name).write_bytes(f"contents of {name}".encode())
    c = load_config(
        {
            "TEMPORAL_TLS_CA": str(tmp_path / "ca.pem"),
            "TEMPORAL_TLS_CERT": str(tmp_path / "c.pem"),
            "TEMPORAL_TLS_KEY": str(tmp_path / "c.key"),
            "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
        }
    )
    options = temporal_connect_options(c)
    assert set(options) == {"tls"}
    tls = options["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == b"contents of ca.pem"
    assert tls.client_cert == b"contents of c.pem"
    assert tls.client_private_key == b"contents of c.key"
    assert tls.domain == "temporal.internal"


def test_temporal_api_key_implies_tls() -> None:
    from temporalio.service import TLSConfig

    from flywheel_gpu_worker.config import temporal_connect_options

    options = temporal_connect_options(load_config({"TEMPORAL_API_KEY": "secret"}))
    assert options["api_key"] == "secret"
    assert options["tls"] == TLSConfig()
    assert temporal_connect_options(load_config({"TEMPORAL_TLS": "on"})) == {"tls": TLSConfig()}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TEMPORAL_TLS_CERT": "c.pem"}, "TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: a client certificate needs its key"),
        ({"TEMPORAL_TLS_KEY": "c.key"}, "TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: a client certificate needs its key"),
        ({"TEMPORAL_TLS": "off", "TEMPORAL_API_KEY": "k"}, "TEMPORAL_TLS: off, but"),
        ({"TEMPORAL_TLS": "yes"}, "TEMPORAL_TLS must be one of on|off"),
        ({"TEMPORAL_TLS_CA": " "}, "TEMPORAL_TLS_CA must not be empty"),
    ],
)
def test_temporal_tls_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("|", r"\|")):
        load_config(env)


def test_temporal_tls_unreadable_file_names_the_variable(tmp_path: Path) -> None:
    from flywheel_gpu_worker.config import temporal_connect_options

    c = load_config({"TEMPORAL_TLS_CA": str(tmp_path / "missing.pem")})
    with pytest.raises(ConfigError, match="TEMPORAL_TLS_CA: cannot read"):
        temporal_connect_options(c)


def test_metrics_host_follows_the_stack_wide_variable_unless_its_own_is_set() -> None:
    assert load_config({}).metrics_host == "127.0.0.1"
    assert load_config({"FLYWHEEL_METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"
    assert load_config({"FLYWHEEL_METRICS_HOST": "0.0.0.0", "FLYWHEEL_GPU_WORKER_METRICS_HOST": "10.0.0.5"}).metrics_host == "10.0.0.5"


def test_the_shared_file_store_is_mlflow_unless_turned_off(tmp_path: Path) -> None:
    on = load_config({"MLFLOW_TRACKING_URI": "http://mlflow:5000", "MLFLOW_TRACKING_TOKEN": "t", "FLYWHEEL_DATA_DIR": str(tmp_path)})
    assert on.mlflow_tracking_uri == "http://mlflow:5000" and on.mlflow_authorization == "Bearer t"
    assert "Bearer" not in repr(on)  # the login is never printed
    assert load_config({"FLYWHEEL_FILE_STORE": "off"}).mlflow_tracking_uri is None
    assert load_config({"FLYWHEEL_FILE_STORE": "mlflow-isolated"}).foreign_paths is False
    with pytest.raises(ConfigError, match="FLYWHEEL_FILE_STORE must be one of mlflow|mlflow-isolated|off"):
        load_config({"FLYWHEEL_FILE_STORE": "s3"})
    with pytest.raises(ConfigError, match="MLFLOW_TRACKING_URI must be an http"):
        load_config({"MLFLOW_TRACKING_URI": "file:///tmp/mlruns"})
