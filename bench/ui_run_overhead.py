"""Benchmark: how much of a run launched from the UI is spent outside Spark.

The webserver and the daemon (what ``make dev`` runs) serve a fresh embedded lake holding the
sample ERP batches. Runs of ``process_erp__<table>`` are launched one after another through
the UI's GraphQL API, as the Launch button does, for ``--runs`` batches (after one warm-up run
that is not counted). Per run, two figures from the same run are compared:

- **Spark**: the Glue jobs' own durations (``glue_duration_seconds`` of each materialization);
- **outside Spark**: the run's wall time, from the launch request to the run's success as the
  UI reports it, minus the Spark time: queueing, the run worker's start and code load, the
  step processes, Pipes, checks and event writes.

Usage::

    .venv/bin/python bench/ui_run_overhead.py [--runs 3] [--table customers]

Goal: outside Spark <= 0.5x Spark.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Figure, bench_parser, load_average, report  # noqa: E402

from lake_platform_tests.dagster_servers import start, start_webserver  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STOP_SENSOR = """
mutation ($id: String!) { stopSensor(id: $id) { ... on StopSensorMutationResult { instigationState { status } } } }"""
SENSORS = "query { repositoriesOrError { ... on RepositoryConnection { nodes { sensors { id name } } } } }"


def measure(runs: int = 3, table: str = "customers") -> list[Figure]:
    """Launch the runs and return the outside-Spark against Spark figure."""
    import dagster as dg
    from dagster_graphql import DagsterGraphQLClient

    from lake_platform.process import INSTANCE_YAML
    from lake_platform.resources.object_store.local import LocalObjectStore
    from lake_platform.sample_data import generate

    home = Path(tempfile.mkdtemp(prefix="ui_bench_")) / "lake"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_YAML)
    store = LocalObjectStore(
        root=str(home / "buckets"), raw_bucket="lake-raw", source_bucket="lake-source", target_bucket="lake-target"
    )
    generate(store, batches=runs + 1)
    landing = home / "buckets" / "lake-raw" / "landing" / "erp" / table
    batches = sorted(p.name for p in landing.iterdir() if (p / "_SUCCESS").exists())
    env = {**os.environ, "LAKE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "LAKE_ENV": "local"}
    env.pop("LAKE_CONFIG_DIR", None)
    job, pdef = f"process_erp__{table}", f"erp__{table}"
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        instance.add_dynamic_partitions(pdef, batches)
    webserver, port = start_webserver(env, home)
    daemon = None
    outside, spark = [], []
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        # Only the launched runs: the landing sensor would start every landed batch itself.
        for sensor in client._execute(SENSORS)["repositoriesOrError"]["nodes"][0]["sensors"]:
            client._execute(STOP_SENSOR, {"id": sensor["id"]})
        daemon = start(["dagster-daemon", "run", "-w", "workspace.yaml"], env, home / "daemon.log")
        for n, batch in enumerate(batches):
            started = time.monotonic()
            run_id = client.submit_job_execution(job, tags={"dagster/partition": batch})
            while (status := client.get_run_status(run_id)) not in (
                dg.DagsterRunStatus.SUCCESS,
                dg.DagsterRunStatus.FAILURE,
                dg.DagsterRunStatus.CANCELED,
            ):
                time.sleep(0.25)
            wall = time.monotonic() - started
            if status != dg.DagsterRunStatus.SUCCESS:
                raise RuntimeError(f"run {run_id} of {batch}: {status}")
            with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
                records = instance.get_records_for_run(
                    run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
                ).records
                glue = sum(
                    float(r.event_log_entry.asset_materialization.metadata["glue_duration_seconds"].value)
                    for r in records
                    if "glue_duration_seconds" in r.event_log_entry.asset_materialization.metadata
                )
            if n == 0:
                continue  # warm-up: the shared Spark JVM and the code server start here
            outside.append(wall - glue)
            spark.append(glue)
    finally:
        for proc in (daemon, webserver):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
    return [
        Figure(
            f"run launched from the UI ({job}, sample batch)",
            outside,
            spark,
            "the same runs' Spark time (Glue job durations)",
            goal=0.5,
            ratio_of="outside Spark / Spark",
            note="ours = launch-to-success wall time minus Spark time",
        )
    ]


def main() -> None:
    """Print the figure."""
    parser = bench_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--table", default="customers")
    args = parser.parse_args()
    start = load_average()
    report(measure(args.runs, args.table), start, args.json)


if __name__ == "__main__":
    main()
