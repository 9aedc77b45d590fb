"""The asset factory and the code location: keys, groups, partitions, lineage, checks, jobs."""

import importlib

import dagster as dg
import pytest

from lake_glue.config import load_config_dir
from lake_platform.assets import build_table_assets
from lake_platform.settings import AWS_SETTINGS, SettingsError
from lake_platform_tests.conftest import CONFIG_DIR


@pytest.fixture(scope="module")
def tables():
    return build_table_assets(load_config_dir(CONFIG_DIR), "local")


@pytest.fixture
def defs(lake_home):
    import lake_platform.definitions as module

    return importlib.reload(module).defs()


def test_every_table_gets_raw_source_and_target_assets_keyed_by_layer(tables):
    keys = {k.to_user_string() for t in tables for a in (t.raw, t.source, *t.targets) for k in a.keys}
    assert {"raw/erp/orders", "source/erp/orders", "target/sales/orders"} <= keys
    assert len(keys) == 9


def test_groups_and_kinds_follow_the_layer(tables):
    orders = next(t for t in tables if t.table_id == "erp.orders")
    assert orders.raw.group_names_by_key[orders.raw.key] == "raw"
    assert orders.source.group_names_by_key[orders.source.key] == "source"
    target = orders.targets[0]
    assert target.group_names_by_key[target.key] == "target"
    assert "glue" in orders.source.specs_by_key[orders.source.key].kinds
    assert "athena" in target.specs_by_key[target.key].kinds


def test_a_batch_is_one_partition_across_all_three_layers(tables):
    orders = next(t for t in tables if t.table_id == "erp.orders")
    names = {a.partitions_def.name for a in (orders.raw, orders.source, *orders.targets)}
    assert names == {"erp__orders"}


def test_target_column_lineage_points_at_source_columns(tables):
    lines = next(t for t in tables if t.table_id == "erp.order_lines")
    target = lines.targets[0]
    lineage = target.specs_by_key[target.key].metadata["dagster/column_lineage"]
    deps = {d.column_name for d in lineage.deps_by_column["line_amount"]}
    assert deps == {"quantity", "unit_price"}
    assert all(d.asset_key == lines.source.key for d in lineage.deps_by_column["sku"])


def test_table_name_metadata_is_the_glue_database_and_table(tables):
    orders = next(t for t in tables if t.table_id == "erp.orders")
    assert orders.source.specs_by_key[orders.source.key].metadata["dagster/table_name"] == "erp.orders"
    target = orders.targets[0]
    assert target.specs_by_key[target.key].metadata["dagster/table_name"] == "sales.orders"


def test_checks_reconcile_source_and_guard_target_primary_keys(tables):
    orders = next(t for t in tables if t.table_id == "erp.orders")
    specs = {c.name: c for c in orders.source.check_specs}
    assert set(specs) == {
        "landed_rows_reconcile",
        "no_undeclared_fields",
        "acceptance_rules",
        "not_a_duplicate_delivery",
    }
    # The acceptance rules refuse a batch before commit and stop its targets; so does a
    # byte-identical re-delivery, by default (erp.orders keeps the default).
    assert specs["acceptance_rules"].blocking and specs["not_a_duplicate_delivery"].blocking
    # Every check is per batch, partitioned like its asset.
    assert all(spec.partitions_def == orders.partitions_def for spec in specs.values())
    # The target's primary key is a standalone check: re-runnable alone, blocking, per batch.
    assert not list(orders.targets[0].check_specs)
    standalone = {spec.name: spec for check in orders.checks for spec in check.check_specs}
    assert set(standalone) == {"primary_key_unique", "no_stragglers"}
    pk_check = standalone["primary_key_unique"]
    assert pk_check.asset_key == orders.targets[0].key
    assert pk_check.blocking and pk_check.partitions_def == orders.partitions_def
    # Files landing in a sealed batch are a warning on the raw asset, re-runnable per batch.
    stragglers = standalone["no_stragglers"]
    assert stragglers.asset_key == orders.raw.key and not stragglers.blocking
    assert stragglers.partitions_def == orders.partitions_def


def test_targets_follow_their_source_automatically(tables):
    target = tables[0].targets[0]
    assert target.specs_by_key[target.key].automation_condition is not None


def test_code_location_loads_without_touching_the_lake(defs, lake_home):
    assert not lake_home.exists()
    assert defs.resolve_job_def("process_erp__orders").partitions_def.name == "erp__orders"
    assert {s.name for s in defs.sensors} >= {"landing_sensor"}
    assert {s.name for s in defs.schedules} == {
        "erp__customers_catch_up",
        "erp__orders_catch_up",
        "erp__order_lines_catch_up",
        "lake_maintenance_daily",
    }
    assert dg.Definitions.validate_loadable(defs) is None


def test_aws_mode_names_every_missing_variable(lake_home, monkeypatch):
    monkeypatch.setenv("LAKE_ENV", "aws")
    for name in AWS_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    import lake_platform.definitions as module

    with pytest.raises(SettingsError) as err:
        importlib.reload(module).defs()
    assert all(name in str(err.value) for name in AWS_SETTINGS)


def test_unknown_lake_env_is_refused(monkeypatch):
    from lake_platform.settings import lake_env

    monkeypatch.setenv("LAKE_ENV", "prod")
    with pytest.raises(SettingsError, match="LAKE_ENV must be 'local' or 'aws'"):
        lake_env()


@pytest.mark.aws
def test_aws_mode_loads_from_environment_variables_alone_without_calling_aws(lake_home, monkeypatch):
    monkeypatch.setenv("LAKE_ENV", "aws")
    for name in AWS_SETTINGS:
        monkeypatch.setenv(
            name, "arn:aws:states:eu-west-1:123456789012:stateMachine:x" if "ARN" in name else f"x-{name.lower()}"
        )
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_dev_")  # Glue names allow [a-z0-9_] only
    # Port 9 refuses connections: any AWS call while loading would fail this test.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    import lake_platform.definitions as module
    from lake_platform.resources.glue_runner.aws import StepFunctionsGlueJobRunner
    from lake_platform.resources.query_engine.aws import AthenaQueryEngine

    defs = importlib.reload(module).defs()
    assert isinstance(defs.resources["glue_runner"], StepFunctionsGlueJobRunner)
    assert isinstance(defs.resources["query_engine"], AthenaQueryEngine)
    assert {s.name for s in defs.sensors} >= {"landing_sensor", "landing_queue_sensor", "lake_automation_sensor"}
    assert dg.Definitions.validate_loadable(defs) is None
    with dg.build_resources(dict(defs.resources)) as res:
        assert res.object_store.raw_bucket == "x-lake_raw_bucket"
        assert res.partition_registry.table_name == "x-lake_partitions_table"
        assert res.landing_queue.queue_url == "x-lake_landing_queue_url"


def test_terraform_outputs_print_exactly_the_variables_aws_mode_reads():
    import re

    from lake_platform_tests.conftest import REPO_ROOT

    text = (REPO_ROOT / "terraform" / "output.tf").read_text()
    exported = set(re.findall(r"\b(LAKE_[A-Z_]+|AWS_REGION)\s*=", text))
    assert exported == set(AWS_SETTINGS) | {"LAKE_ENV"}


def test_the_dg_cli_loads_the_project_and_lists_the_same_definitions(defs, lake_home):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    dg_cli = Path(sys.executable).with_name("dg")
    listed = subprocess.run(
        [str(dg_cli), "list", "defs", "--json"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    found = json.loads(listed.stdout)
    graph = defs.resolve_asset_graph()
    assert {a["asset_key"] for a in found["assets"]} == {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {c["key"] for c in found["asset_checks"]} == {
        f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys
    }
    assert {s["name"] for s in found["sensors"]} == {s.name for s in defs.sensors or []}
