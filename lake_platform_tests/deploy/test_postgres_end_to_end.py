"""Production Dagster on a real PostgreSQL: the daemon, the webserver and the code server run as
the image runs them, with ``deploy/dagster.yaml``'s rules, against an embedded lake.

The instance is ``instance_config("aws")`` with two overrides only, because neither can run here:
the default run launcher instead of ECS (runs are subprocesses of the code server) and local
compute logs instead of S3. Postgres is reached over its Unix socket: ``DAGSTER_PG_HOST`` is
empty, so libpq takes the socket directory from ``PGHOST`` (the file is unchanged).

A SIGKILLed run worker: on ECS, run monitoring's task health check fails the run. The default
launcher has no health check; locally the code server that spawned the worker notices it died
(its orphaned-run check) and reports the run FAILED. Run retries then re-run the batch once.

The scenarios share one platform, in order: two batches land and run (one at a time, the pool);
a third batch's worker is killed; the daemon is killed while a fourth batch runs and a fifth
lands; everything stops and starts again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import psutil
import pytest
import yaml

from lake_platform.instance import instance_config
from lake_platform_tests.dagster_servers import REPO, free_port, start, start_webserver

pytestmark = pytest.mark.slow

JOB = "process_erp__customers"
B1, B2, B3, B4, B5 = (f"2026040{d}T000000Z" for d in range(1, 6))
SENSOR_INTERVAL = 5
CUSTOMERS = (
    "customer_id,customer_name,email,country_code,credit_limit,created_at\n"
    "{n},Ann,a{n}@x.org,ZA,10.00,2026-01-01 10:00:00\n"
)
RUNS_QUERY = "query { runsOrError { ... on Runs { results { runId status tags { key value } } } } }"


def _land(home: Path, batch: str, n: int) -> None:
    folder = home / "buckets" / "lake-raw" / "landing" / "erp" / "customers" / batch
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_text(CUSTOMERS.format(n=n))
    (folder / "_SUCCESS").write_bytes(b"")


def _stop(proc: subprocess.Popen | None, sig: int = signal.SIGINT) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class Platform:
    """The three services of the image on one Postgres-backed DAGSTER_HOME; restartable."""

    def __init__(self, root: Path, postgres: dict):
        self.home = root / "lake"
        self.dagster_home = self.home / "dagster"
        self.dagster_home.mkdir(parents=True)
        config = instance_config("aws")
        # No ECS and no S3 here: runs are local processes, compute logs on disk. Nothing else changes.
        del config["run_launcher"], config["compute_logs"]
        (self.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))
        workspace = yaml.safe_load((REPO / "deploy" / "workspace.yaml").read_text())
        # The production port 4000 may be taken on a shared machine; the host stays an env source.
        self.port = free_port()
        workspace["load_from"][0]["grpc_server"]["port"] = self.port
        self.workspace = root / "workspace.yaml"
        self.workspace.write_text(yaml.safe_dump(workspace))
        self.env = {
            **os.environ,
            "LAKE_HOME": str(self.home),
            "LAKE_ENV": "local",
            "DAGSTER_HOME": str(self.dagster_home),
            "DAGSTER_PG_HOST": "",
            "PGHOST": postgres["host"],
            "DAGSTER_PG_PORT": postgres["port"],
            "DAGSTER_PG_DB": postgres["db"],
            "DAGSTER_PG_USER": postgres["user"],
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
            # Sensors tick every SENSOR_INTERVAL s instead of 30: the same daemon, in less test time.
            "LAKE_SENSOR_INTERVAL_SECONDS": str(SENSOR_INTERVAL),
        }
        self.env.pop("LAKE_CONFIG_DIR", None)
        self.code = self.daemon = self.webserver = None
        self.web_port = 0
        self._daemon_logs = 0

    def instance(self) -> dg.DagsterInstance:
        for key in ("DAGSTER_PG_HOST", "PGHOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB", "DAGSTER_PG_USER"):
            os.environ[key] = self.env[key]
        os.environ["DAGSTER_PG_PASSWORD"] = ""
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def start_code(self) -> None:
        argv = ["dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(self.port)]
        self.code = start([*argv, "-m", "lake_platform.definitions"], self.env, self.home / "code.log")

    def start_daemon(self) -> None:
        self._daemon_logs += 1
        log = self.home / f"daemon{self._daemon_logs}.log"
        self.daemon = start(["dagster-daemon", "run", "-w", str(self.workspace)], self.env, log)

    def start_all(self) -> None:
        self.start_code()
        self.webserver, self.web_port = start_webserver(self.env, self.home, workspace=str(self.workspace))
        self.start_daemon()

    def stop_all(self) -> None:
        for proc in (self.daemon, self.webserver, self.code):
            _stop(proc)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-1500:] for p in sorted(self.home.glob("*.log")))


def _runs(instance: dg.DagsterInstance, batch: str | None = None) -> list:
    tags = {"dagster/partition": batch} if batch else None
    return list(instance.get_run_records(filters=dg.RunsFilter(job_name=JOB, tags=tags)))


def _wait(what: str, predicate, platform: Platform, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{platform.logs()}")


def _succeeded(instance, batch):
    return [r for r in _runs(instance, batch) if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS]


@pytest.fixture(scope="module")
def platform(postgres, tmp_path_factory):
    """The platform, started with two customers batches landed; stopped at the end."""
    platform = Platform(tmp_path_factory.mktemp("prod"), postgres)
    _land(platform.home, B1, 1)
    _land(platform.home, B2, 2)
    platform.start_all()
    try:
        with platform.instance() as instance:
            platform.instance_ = instance  # type: ignore[attr-defined]
            yield platform
    finally:
        platform.stop_all()


def test_a_landed_batch_runs_through_the_daemon_with_its_results_stored_in_postgres(platform):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    instance = platform.instance_
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    for batch in (B1, B2):
        _wait(f"a successful run of {batch}", lambda b=batch: _succeeded(instance, b), platform)
    raw = dg.AssetKey(["source", "erp", "customers"])
    assert {B1, B2} <= instance.get_materialized_partitions(raw)
    check = dg.AssetCheckKey(raw, "acceptance_rules")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([check])[check]
    assert record.status.value == "SUCCEEDED" and record.partition in {B1, B2}


def test_two_batches_of_one_table_never_run_at_once(platform):
    instance = platform.instance_
    spans = sorted((r.start_time, r.end_time) for b in (B1, B2) for r in _succeeded(instance, b))
    assert len(spans) == 2
    (_, first_end), (second_start, _) = spans
    assert second_start >= first_end, f"runs overlapped: {spans}"


def _run_worker(platform: Platform, run_id: str) -> list[psutil.Process]:
    """The code server's child that executes ``run_id`` (its process tree, as one ECS task would be)."""
    for child in psutil.Process(platform.code.pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                return [child, *child.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    return []


def test_a_killed_run_worker_fails_the_run_and_the_batch_is_re_run_once(platform):
    instance = platform.instance_
    _land(platform.home, B3, 3)

    def started():
        runs = [r for r in _runs(instance, B3) if r.dagster_run.status == dg.DagsterRunStatus.STARTED]
        return runs and _run_worker(platform, runs[0].dagster_run.run_id) and runs[0]

    victim = _wait(f"the run of {B3} to start", started, platform).dagster_run
    for proc in _run_worker(platform, victim.run_id):
        proc.send_signal(signal.SIGKILL)
    failed = _wait(
        "the killed run to end FAILED",
        lambda: instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.FAILURE,
        platform,
        timeout=60,
    )
    assert failed
    logs = instance.all_logs(victim.run_id)
    assert any("Run execution process for" in (e.message or "") for e in logs), "the code server reported the crash"
    [retry] = _wait(f"the re-run of {B3}", lambda: _succeeded(instance, B3), platform)
    assert retry.dagster_run.parent_run_id == victim.run_id
    time.sleep(5)  # a duplicate would be queued by now (dequeue every second)
    assert len(_runs(instance, B3)) == 2, "the batch ran exactly twice: the killed run and one re-run"


def test_a_killed_daemon_restarts_where_it_was_without_losing_or_doubling_runs(platform):
    instance = platform.instance_
    before = {r.dagster_run.run_id for r in _runs(instance)}
    _land(platform.home, B4, 4)
    # Killed once the run has started: a daemon killed while it is dequeuing the run leaves it
    # STARTING, which run monitoring fails after start_timeout_seconds (300 s) and run retries
    # re-run; that path is Dagster's and slower than this test waits.
    in_flight = _wait(
        f"the run of {B4} to start",
        lambda: [r for r in _runs(instance, B4) if r.dagster_run.status == dg.DagsterRunStatus.STARTED],
        platform,
    )
    _stop(platform.daemon, signal.SIGKILL)  # mid-run: the run lives on in the code server
    _land(platform.home, B5, 5)  # lands while no daemon runs
    platform.start_daemon()
    for batch in (B4, B5):
        _wait(f"a successful run of {batch}", lambda b=batch: _succeeded(instance, b), platform)
    time.sleep(5)  # a duplicate would be queued by now (dequeue every second)
    assert [r.dagster_run.run_id for r in _runs(instance, B4)] == [in_flight[0].dagster_run.run_id]
    assert len(_runs(instance, B5)) == 1, "the batch that landed while the daemon was dead ran once"
    assert len(_runs(instance)) == len(before) + 2


def test_stopping_and_restarting_everything_keeps_history_and_re_runs_nothing(platform):
    from dagster_graphql import DagsterGraphQLClient

    instance = platform.instance_
    before = {r.dagster_run.run_id: r.dagster_run.status for r in _runs(instance)}
    platform.stop_all()
    platform.start_all()
    client = DagsterGraphQLClient("127.0.0.1", port_number=platform.web_port)
    shown = _wait(
        "the restarted webserver to list the runs",
        lambda: {r["runId"] for r in client._execute(RUNS_QUERY)["runsOrError"]["results"]},
        platform,
    )
    assert set(before) <= shown
    # Give the restarted daemon landing-sensor ticks (it ticks at start, then every SENSOR_INTERVAL s).
    time.sleep(SENSOR_INTERVAL + 5)
    after = {r.dagster_run.run_id: r.dagster_run.status for r in _runs(instance)}
    assert after == before, "nothing ran again after the restart"
    # The batch status sensor mirrored every batch's outcome, the killed batch's from its re-run.
    from lake_platform.resources.partition_registry.local import SqlitePartitionRegistry

    registry = SqlitePartitionRegistry(path=str(platform.home / "registry.sqlite"))
    source = "source/erp/customers"
    progress = {b: registry.get("erp.customers", b).progress.get(source) for b in (B1, B2, B3, B4, B5)}
    assert {b: p and p.status for b, p in progress.items()} == dict.fromkeys((B1, B2, B3, B4, B5), "MATERIALIZED")
    [rerun] = _succeeded(instance, B3)
    assert progress[B3].run_id == rerun.dagster_run.run_id
