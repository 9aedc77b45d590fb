"""The shared local Spark JVM: lent to one job at a time, returned only by clean endings.

Each test gets a gateway of its own (a distinct JVM option is part of the gateway's key), and
the jobs are real PySpark processes that connect to it exactly as the Glue scripts do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from lake_platform import spark_gateway
from lake_platform.settings import glue_scripts_dir, java_environment

pytestmark = pytest.mark.slow

JOB = """
import os
from lake_glue.spark import get_spark, release_spark
spark = get_spark("gateway-test")
print(spark.range(1000).count(), os.environ.get("PYSPARK_GATEWAY_PORT", "own-jvm"))
release_spark(spark)
"""


@pytest.fixture
def env(tmp_path):
    """A job environment whose gateway no other test shares; its JVM is stopped afterwards."""
    env = {
        **os.environ,
        **java_environment(),
        "PYTHONPATH": str(glue_scripts_dir()),
        "PYSPARK_PYTHON": sys.executable,
        "LAKE_LOCAL_BUCKET_ROOT": str(tmp_path),
        "LAKE_LOCAL_BUCKETS": "b",
        "LAKE_SPARK_JAVA_OPTIONS": f"-Dlake.test={uuid.uuid4().hex}",
    }
    yield env
    folder = spark_gateway.gateway_folder(env, sys.executable)
    spark_gateway._stop(folder, spark_gateway._state(folder))


def run_job(env: dict, extra: dict | None) -> str:
    """Run a small PySpark job as the runner does, on the lent JVM when there is one."""
    out = subprocess.run(
        [sys.executable, "-c", JOB], env={**env, **(extra or {})}, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split()[-1]


def test_jobs_in_a_row_run_on_one_jvm_that_a_clean_job_returns(env):
    pids = []
    for _ in range(2):
        with spark_gateway.lease(env) as jvm:
            assert jvm.env is not None
            assert run_job(env, jvm.env) == jvm.env["PYSPARK_GATEWAY_PORT"]
            pids.append(jvm.state["jvm_pid"])
    assert pids[0] == pids[1]
    assert spark_gateway._alive(pids[0])


def test_a_job_that_fails_stops_the_jvm_and_the_next_job_gets_a_fresh_one(env):
    with pytest.raises(RuntimeError), spark_gateway.lease(env) as jvm:
        first = jvm.state["jvm_pid"]
        run_job(env, jvm.env)
        raise RuntimeError("the job exited non-zero")
    deadline = time.monotonic() + 10
    while spark_gateway._alive(first) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not spark_gateway._alive(first)
    with spark_gateway.lease(env) as jvm:
        assert jvm.state["jvm_pid"] != first
        assert run_job(env, jvm.env) == jvm.env["PYSPARK_GATEWAY_PORT"]


def test_a_job_killed_before_it_stopped_its_session_does_not_block_the_next(env):
    with pytest.raises(subprocess.CalledProcessError), spark_gateway.lease(env) as jvm:
        # The job dies holding an active Spark context in the shared JVM.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import os\nfrom lake_glue.spark import get_spark\n"
                "get_spark('killed').range(10).count()\nos._exit(9)",
            ],
            env={**env, **jvm.env},
            check=True,
        )
    with spark_gateway.lease(env) as jvm:
        assert run_job(env, jvm.env) == jvm.env["PYSPARK_GATEWAY_PORT"]


def test_a_job_that_finds_the_jvm_lent_out_starts_its_own(env):
    with spark_gateway.lease(env) as first:
        assert first.env is not None
        with spark_gateway.lease(env) as second:
            assert second.env is None
            assert run_job(env, second.env) == "own-jvm"


def test_an_idle_gateway_stops_its_jvm(env, monkeypatch):
    monkeypatch.setattr(spark_gateway, "IDLE_SECONDS", 2)
    with spark_gateway.lease(env) as jvm:
        pids = jvm.state["holder_pid"], jvm.state["jvm_pid"]
    deadline = time.monotonic() + 30
    while any(spark_gateway._alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(spark_gateway._alive(p) for p in pids)
