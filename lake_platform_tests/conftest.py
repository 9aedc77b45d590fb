"""Shared fixtures: one SparkSession per test session, a moto server, temporary lakes."""

from __future__ import annotations

import importlib
import json
import os
import socket
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from lake_glue import ingest_job, prepare_job
from lake_glue.args import IngestArgs, PrepareArgs
from lake_glue.tables import data_files, open_catalog, read_files
from lake_platform.settings import ensure_java_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "configs"


@contextmanager
def embedded_lake(home: Path):
    """The definitions and initialized resources of an embedded lake at ``home``.

    ``LAKE_HOME`` and ``DAGSTER_HOME`` point at it (and the shipped configs are used) until the
    block ends, as for a user who runs ``lake`` there; the definitions are rebuilt for it.
    """
    import dagster as dg

    mp = pytest.MonkeyPatch()
    mp.setenv("LAKE_HOME", str(home))
    mp.setenv("DAGSTER_HOME", str(home / "dagster"))
    mp.setenv("LAKE_ENV", "local")
    mp.delenv("LAKE_CONFIG_DIR", raising=False)
    try:
        import lake_platform.definitions as module

        defs = importlib.reload(module).defs()
        with dg.build_resources(dict(defs.resources)) as resources:
            yield defs, resources
    finally:
        mp.undo()


SPARK_FIXTURES = {"spark", "lake", "spark_root"}


def pytest_collection_modifyitems(items):
    """Mark every test that needs the JVM (the session's Spark) ``spark``: ``make test-fast`` skips them."""
    for item in items:
        if SPARK_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.spark)


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


ERP = json.loads((CONFIG_DIR / "erp.json").read_text())
SALES = json.loads((CONFIG_DIR / "sales.json").read_text())
ORDERS_HEADER = "order_id;customer_id;order_status;order_total;currency;ordered_at;updated_at\n"


@pytest.fixture
def lake(spark_root, spark, tmp_path):
    """Fresh configs with unique prefixes and catalog, and helpers to land batches and run the jobs."""
    tag = uuid.uuid4().hex[:8]
    erp = json.loads(json.dumps(ERP))
    erp["source"]["landing_prefix"] = f"landing/{tag}"
    erp["target"]["prefix"] = f"erp_{tag}"
    sales = json.loads(json.dumps(SALES))
    sales["target"]["prefix"] = f"sales_{tag}"
    sales_config = sales
    catalog_uri = f"sqlite:///{tmp_path / 'catalog.sqlite'}"

    erp_config = erp

    class Lake:
        root = spark_root
        erp = erp_config
        sales = sales_config
        catalog = catalog_uri

        def config_dir(self):
            """The test's configs as a ``--config_source file://`` folder, for jobs run as subprocesses."""
            folder = tmp_path / "configs"
            folder.mkdir(exist_ok=True)
            for config in (erp, sales):
                (folder / f"{config['config_name']}.json").write_text(json.dumps(config))
            return folder

        def land(self, table, batch_id, files, complete=True):
            folder = spark_root / "lake-raw" / erp["source"]["landing_prefix"] / table / batch_id
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (folder / name).write_text(text)
            if complete:
                (folder / "_SUCCESS").write_text("")

        def ingest(self, table, batch_id, pipes=None):
            args = IngestArgs(
                config_name=erp["config_name"],
                table_name=table,
                batch_id=batch_id,
                config_source=f"file://{self.config_dir()}",
                catalog=catalog_uri,
                raw_bucket="lake-raw",
                source_bucket="lake-source",
            )
            return ingest_job.run_ingest(spark, args, erp, pipes=pipes)

        def prepare(self, table, batch_id, config=None, rebuild=False):
            config = config or sales
            args = PrepareArgs(
                config_name=config["config_name"],
                table_name=table,
                batch_id=batch_id,
                config_source=f"file://{self.config_dir()}",
                catalog=catalog_uri,
                target_bucket="lake-target",
                rebuild=rebuild,
            )
            return prepare_job.run_prepare(spark, args, config, erp)

        def iceberg(self, table, database="sales"):
            return open_catalog(catalog_uri).load_table((database, table))

        def target(self, table):
            """The committed rows of a target table, read from its current snapshot's files."""
            iceberg = self.iceberg(table)
            return read_files(spark, iceberg, data_files(iceberg))

    return Lake()


def order_row(order_id, status, updated):
    """One ``erp.orders`` CSV line; ``updated`` is the hour of ``updated_at`` on 2026-01-01."""
    return f"{order_id};1;{status};10.00;ZAR;01/01/2026 10:00:00;01/01/2026 {updated}:00:00\n"
