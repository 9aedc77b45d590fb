"""Shared fixtures: one SparkSession per test session, a moto server, temporary lakes."""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path

import pytest

from lake_platform.settings import ensure_java_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"


@pytest.fixture(scope="session")
def spark_root(tmp_path_factory) -> Path:
    """Folder that the session's Spark maps ``s3://<bucket>`` to."""
    return tmp_path_factory.mktemp("spark_buckets")


@pytest.fixture(scope="session")
def spark(spark_root):
    """The test session's single local SparkSession; ``s3://b/...`` maps to ``spark_root/b``."""
    ensure_java_environment()
    os.environ["LAKE_LOCAL_BUCKET_ROOT"] = str(spark_root)
    os.environ["LAKE_LOCAL_BUCKETS"] = "lake-raw,lake-source,lake-target,test-bucket"
    from lake_glue.spark import get_spark

    session = get_spark("lake_platform_tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """A moto server on loopback for the whole session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    yield endpoint
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Fake credentials pointed at a freshly reset moto server; yields the endpoint URL."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": moto_server,
    }.items():
        monkeypatch.setenv(key, value)
    yield moto_server


@pytest.fixture
def lake_home(tmp_path, monkeypatch) -> Path:
    """A fresh embedded lake (``LAKE_HOME``) with its own Dagster home."""
    home = tmp_path / "lake"
    monkeypatch.setenv("LAKE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("LAKE_ENV", "local")
    monkeypatch.setenv("LAKE_CONFIG_DIR", str(CONFIG_DIR))
    return home


def load_glue_script(job_name: str):
    """Import a Glue entry-point script (``glue_scripts/<job>.py``) as a module."""
    import importlib.util

    path = REPO_ROOT / "glue_scripts" / f"{job_name.replace('-', '_')}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
