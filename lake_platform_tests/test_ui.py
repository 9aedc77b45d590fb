"""The Dagster UI as a user meets it: the webserver and the daemon that `make dev` runs, on a
fresh embedded lake, asked through the same GraphQL API the UI uses.

Sensors are stopped through the API before the daemon starts, so that the only run is the one
this test launches (the landing sensor would otherwise start a full run of the landed batch).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import dagster as dg
import pytest

from lake_platform_tests.dagster_servers import start, start_webserver

pytestmark = pytest.mark.slow

BATCH = "20260401T000000Z"
CUSTOMERS = (
    b"customer_id,customer_name,email,country_code,credit_limit,created_at\n"
    b"1,Ann,a@x.org,ZA,10.00,2026-01-01 10:00:00\n"
)
ASSET_NODES = """
query ($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name description } } } }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}"""
REPOSITORIES = """
query { repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { id name sensorState { status } }
  schedules { name }
} } } }"""
STOP_SENSOR = """
mutation ($id: String!) { stopSensor(id: $id) { ... on StopSensorMutationResult { instigationState { status } }
  ... on PythonError { message } } }"""


def _interrupt(proc: subprocess.Popen, timeout: float = 60) -> int | None:
    """Ctrl-C the process group, as a terminal does; its exit code, or None if it hung."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    """The webserver and the daemon on a lake holding one landed customers batch."""
    from dagster_graphql import DagsterGraphQLClient

    from lake_platform.process import INSTANCE_YAML

    home = tmp_path_factory.mktemp("ui") / "lake"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(INSTANCE_YAML)
    folder = home / "buckets" / "lake-raw" / "landing" / "erp" / "customers" / BATCH
    folder.mkdir(parents=True)
    (folder / "customers.csv").write_bytes(CUSTOMERS)
    (folder / "_SUCCESS").write_bytes(b"")
    env = {**os.environ, "LAKE_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "LAKE_ENV": "local"}
    env.pop("LAKE_CONFIG_DIR", None)
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        instance.add_dynamic_partitions("erp__customers", [BATCH])

    webserver, port = start_webserver(env, home)
    daemon = None
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        repos = client._execute(REPOSITORIES)["repositoriesOrError"]["nodes"]
        for sensor in repos[0]["sensors"]:
            client._execute(STOP_SENSOR, {"id": sensor["id"]})
        daemon = start(["dagster-daemon", "run", "-w", "workspace.yaml"], env, home / "daemon.log")
        yield {"client": client, "repos": repos, "webserver": webserver, "daemon": daemon, "home": home}
    finally:
        for proc in (daemon, webserver):
            if proc is not None and proc.poll() is None:
                _interrupt(proc)


def _node(ui, key: list[str]) -> dict:
    [node] = ui["client"]._execute(ASSET_NODES, {"keys": [{"path": key}]})["assetNodes"]
    return node


def _columns(node: dict) -> dict[str, str]:
    [schema] = [e["schema"] for e in node["metadataEntries"] if e["label"] == "dagster/column_schema"]
    return {c["name"]: c["description"] for c in schema["columns"]}


def test_the_ui_shows_each_column_with_its_derivation_and_the_platform_columns(ui):
    lines = _columns(_node(ui, ["target", "sales", "order_lines"]))
    assert "(expression: `quantity * unit_price`)" in lines["line_amount"]
    assert lines["_batch_id"].startswith("lineage:")
    orders = _columns(_node(ui, ["source", "erp", "orders"]))
    assert "raw column `order_total` of the landed files in `landing/erp/orders/<batch_id>/`" in orders["order_total"]
    assert orders["_source_line"].startswith("lineage:") and orders["p_batch_id"].startswith("partition:")


def test_the_ui_lists_the_checks_sensors_and_schedules(ui):
    checks = {
        c["name"]: c["blocking"] for c in _node(ui, ["source", "erp", "customers"])["assetChecksOrError"]["checks"]
    }
    assert checks == {
        "landed_rows_reconcile": False,
        "no_undeclared_fields": False,
        "acceptance_rules": True,
        "not_a_duplicate_delivery": True,
    }
    raw_checks = {
        c["name"]: c["blocking"] for c in _node(ui, ["raw", "erp", "customers"])["assetChecksOrError"]["checks"]
    }
    assert raw_checks == {"no_stragglers": False}
    sensors = {s["name"] for s in ui["repos"][0]["sensors"]}
    assert {"landing_sensor", "batch_status_sensor"} <= sensors
    assert ui["repos"][0]["schedules"], "the catch-up schedules are listed"


def test_a_partition_run_launched_through_the_ui_api_succeeds(ui):
    from dagster_graphql import DagsterGraphQLClientError

    client = ui["client"]
    run_id = client.submit_job_execution(
        "process_erp__customers", tags={"dagster/partition": BATCH}, asset_selection=[["raw", "erp", "customers"]]
    )
    deadline = time.monotonic() + 240
    status = None
    while time.monotonic() < deadline:
        try:
            status = client.get_run_status(run_id)
        except DagsterGraphQLClientError:
            status = None
        if status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            break
        time.sleep(2)
    assert status == dg.DagsterRunStatus.SUCCESS, (ui["home"] / "daemon.log").read_text()[-3000:]


def test_ctrl_c_stops_the_webserver_and_the_daemon(ui):
    assert _interrupt(ui["daemon"]) is not None, "the daemon did not stop on Ctrl-C"
    assert _interrupt(ui["webserver"]) is not None, "the webserver did not stop on Ctrl-C"
