"""A job killed at any point of its commit leaves the table exactly as it was, and a re-run finishes it.

The jobs run as the local Glue runner runs them (a Python subprocess with its own Spark JVM) and
kill themselves with SIGKILL at the commit protocol's named points (``lake_glue.failpoints``):
nothing in the job gets to clean up, as with a Glue timeout or a StopExecution.
"""

import json
import signal
import subprocess
import sys

import pytest

from lake_platform.resources.glue_runner.local import LocalGlueJobRunner
from lake_platform.settings import glue_scripts_dir
from lake_platform_tests.conftest import ORDERS_HEADER, order_row
from lake_platform_tests.glue_scripts.test_transactional_tables import query

pytestmark = pytest.mark.slow

BASE, NEXT = "20260101T000000Z", "20260102T000000Z"


def _run_job(lake, tmp_path, job: str, args: dict, failpoint: str | None = None) -> subprocess.CompletedProcess:
    runner = LocalGlueJobRunner(
        scripts_dir=str(glue_scripts_dir()),
        bucket_root=str(lake.root),
        buckets=["lake-raw", "lake-source", "lake-target"],
        log_dir=str(tmp_path / "logs"),
    )
    env = runner._environment()
    env.pop("LAKE_FAILPOINTS", None)
    if failpoint:
        env["LAKE_FAILPOINTS"] = failpoint
    argv = [sys.executable, str(glue_scripts_dir() / f"{job}.py")]
    common = {"config_source": f"file://{lake.config_dir()}", "catalog": lake.catalog}
    for key, value in {**common, **args}.items():
        argv += [f"--{key}", value]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)


def _ingest(lake, tmp_path, table: str, batch_id: str, failpoint: str | None = None) -> subprocess.CompletedProcess:
    """The ingest job for one batch of an ``erp`` table, as Glue runs it (its own process)."""
    args = {
        "config_name": "erp",
        "table_name": table,
        "batch_id": batch_id,
        "raw_bucket": "lake-raw",
        "source_bucket": "lake-source",
    }
    return _run_job(lake, tmp_path, "files_spark_ingest_default", args, failpoint)


def _prepare_orders(lake, tmp_path, failpoint=None):
    args = {"config_name": "sales", "table_name": "orders", "batch_id": NEXT, "target_bucket": "lake-target"}
    return _run_job(lake, tmp_path, "dapfw_prepare_default", args, failpoint)


def _orders(lake):
    return sorted(query(lake, "select order_id, order_status, order_total, updated_at from sales.orders"))


@pytest.fixture
def two_batches(lake):
    """Batch BASE prepared (10 orders); batch NEXT (3 updates, 2 new orders) ingested, not prepared."""
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + "".join(order_row(i, "NEW", 10) for i in range(1, 11))})
    lake.ingest("orders", BASE)
    lake.prepare("orders", BASE)
    updates = [order_row(i, "SHIPPED", 12) for i in (2, 5, 9)] + [order_row(i, "NEW", 12) for i in (11, 12)]
    lake.land("orders", NEXT, {"a.csv": ORDERS_HEADER + "".join(updates)})
    lake.ingest("orders", NEXT)
    return lake


@pytest.mark.parametrize("failpoint", ["commit:before", "commit:staged"])
def test_a_prepare_killed_before_its_commit_lands_leaves_the_previous_snapshot(two_batches, tmp_path, failpoint):
    lake = two_batches
    before = _orders(lake)
    snapshot = lake.iceberg("orders").current_snapshot().snapshot_id
    killed = _prepare_orders(lake, tmp_path, failpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _orders(lake) == before
    assert lake.iceberg("orders").current_snapshot().snapshot_id == snapshot

    rerun = _prepare_orders(lake, tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    statuses = {row[0]: row[1] for row in _orders(lake)}
    assert statuses == {i: "SHIPPED" if i in (2, 5, 9) else "NEW" for i in range(1, 13)}
    assert len(_orders(lake)) == 12


def test_a_prepare_killed_after_its_commit_is_complete_and_its_rerun_changes_nothing(two_batches, tmp_path):
    lake = two_batches
    killed = _prepare_orders(lake, tmp_path, "commit:after")
    assert killed.returncode == -signal.SIGKILL
    after_kill = _orders(lake)
    assert len(after_kill) == 12
    assert _prepare_orders(lake, tmp_path).returncode == 0
    assert _orders(lake) == after_kill


def test_an_ingest_killed_mid_commit_leaves_the_source_table_and_its_rerun_lands_the_batch_once(lake, tmp_path):
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", BASE)
    lake.land("orders", NEXT, {"a.csv": ORDERS_HEADER + order_row(2, "NEW", 10) + order_row(3, "NEW", 10)})
    killed = _ingest(lake, tmp_path, "orders", NEXT, "commit:staged")
    assert killed.returncode == -signal.SIGKILL
    assert query(lake, "select _batch_id, count(*) from erp.orders group by 1") == [(BASE, 1)]
    rerun = _ingest(lake, tmp_path, "orders", NEXT)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    figures = json.loads([line for line in rerun.stdout.splitlines() if line.startswith("{")][-1])["materialization"]
    assert (figures["landed_rows"], figures["source_rows"]) == (2, 2)
    assert sorted(query(lake, "select _batch_id, count(*) from erp.orders group by 1")) == [(BASE, 1), (NEXT, 2)]
