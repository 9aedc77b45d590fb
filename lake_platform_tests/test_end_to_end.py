"""End to end on the embedded lake: what ``lake process`` runs, on a real Dagster instance.

Glue scripts run as local Spark subprocesses through Dagster Pipes, exactly as in ``make run``.
"""

import dagster as dg
import pytest

from lake_platform.instance import get_instance
from lake_platform.process import process, summarize
from lake_platform.sample_data import generate
from lake_platform_tests.conftest import embedded_lake

pytestmark = pytest.mark.slow

DRIFTED_BATCH = "20260201T000000Z"


@pytest.fixture(scope="module")
def processed(tmp_path_factory):
    """A lake with two generated batches per table plus one customers batch whose header drifted."""
    with embedded_lake(tmp_path_factory.mktemp("e2e") / "lake") as (defs, res):
        expected = generate(res.object_store, "landing/erp", batches=2)
        prefix = f"landing/erp/customers/{DRIFTED_BATCH}/"
        res.object_store.put_bytes(
            res.object_store.raw_bucket, prefix + "customers_v2.csv", b"customer_id,full_name\n1,A\n"
        )
        res.object_store.put_bytes(res.object_store.raw_bucket, prefix + "_SUCCESS", b"")
        instance = get_instance()
        first = process(defs, res.partition_registry, instance, log=lambda *_: None)
        second = process(defs, res.partition_registry, instance, log=lambda *_: None)
        rows = summarize(res.partition_registry, res.query_engine, res.config_store.list_configs())
        orders = res.query_engine.query("SELECT count(*), count(DISTINCT order_id) FROM sales.orders").rows[0]
        yield {
            "defs": defs,
            "res": res,
            "instance": instance,
            "expected": expected,
            "first": first,
            "second": second,
            "rows": {r["table"]: r for r in rows},
            "orders": orders,
        }


def test_every_complete_batch_reaches_the_target_layer(processed):
    expected, rows = processed["expected"], processed["rows"]
    for table, batches in expected.complete_batches.items():
        row = rows[f"erp.{table}"]
        assert row["done"] == len(batches)
        landed = sum(expected.landed_rows[table].values())
        bad = sum(expected.bad_rows[table].values())
        assert (row["landed"], row["source"], row["quarantined"]) == (landed, landed - bad, bad)


def test_target_row_counts_match_the_generated_data(processed):
    expected, rows = processed["expected"], processed["rows"]
    assert rows["erp.customers"]["targets"]["sales.customers"] == expected.target_rows["customers"]
    assert rows["erp.order_lines"]["targets"]["sales.order_lines"] == expected.target_rows["order_lines"]
    total, distinct = processed["orders"]
    assert total == distinct == expected.target_rows["orders"]


def test_batch_without_marker_is_not_registered(processed):
    in_flight = processed["expected"].incomplete_batches["orders"][0]
    assert processed["res"].partition_registry.get("erp.orders", in_flight) is None


def test_a_failing_batch_is_reported_with_its_file_and_does_not_block_others(processed):
    failed = processed["first"].failed
    assert [(f.table_id, f.batch_id) for f in failed] == [("erp.customers", DRIFTED_BATCH)]
    assert "CSV header does not match the declared columns" in failed[0].error
    assert "customers_v2.csv: CSV header does not match the declared columns: missing columns" in failed[0].error
    assert "unexpected columns ['full_name']" in failed[0].error
    record = processed["res"].partition_registry.get("erp.customers", DRIFTED_BATCH)
    # The batch status sensor mirrored the failed run: the source asset, with the file named.
    failed = record.failed_assets()
    assert set(failed) == {"source/erp/customers", "target/sales/customers"}
    assert "customers_v2.csv" in failed["source/erp/customers"].error
    assert failed["target/sales/customers"].error.startswith("not run: run failure")


def test_a_second_pass_only_retries_what_is_unfinished(processed):
    assert [(r.table_id, r.batch_id) for r in processed["second"].runs] == [("erp.customers", DRIFTED_BATCH)]


def test_a_reset_cursor_starts_nothing_twice_and_a_failing_batch_stops_after_max_attempts(processed):
    from lake_platform.process import CURSOR_KEY

    instance, res = processed["instance"], processed["res"]
    instance.run_storage.set_cursor_values({CURSOR_KEY: ""})
    third = process(processed["defs"], res.partition_registry, instance, log=lambda *_: None)
    assert [(r.table_id, r.batch_id) for r in third.runs] == [("erp.customers", DRIFTED_BATCH)]
    fourth = process(processed["defs"], res.partition_registry, instance, log=lambda *_: None)
    assert fourth.runs == []
    assert fourth.gave_up == [f"erp.customers/{DRIFTED_BATCH}: 3 failed runs; not retried"]


def test_materializations_carry_row_counts_schema_lineage_and_checks(processed):
    instance = processed["instance"]
    event = instance.get_latest_materialization_event(dg.AssetKey(["target", "sales", "orders"]))
    metadata = event.asset_materialization.metadata
    assert metadata["dagster/row_count"].value > 0
    assert metadata["dagster/table_name"].value == "sales.orders"
    assert "dagster/column_lineage" in metadata and "dagster/column_schema" in metadata
    assert metadata["glue_job_name"].value == "dapfw-prepare-default"
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(["target", "sales", "orders"]), "primary_key_unique")]
    )
    assert check, "primary key check was never recorded"
    reconcile = instance.get_latest_materialization_event(dg.AssetKey(["source", "erp", "customers"]))
    assert reconcile.asset_materialization.metadata["quarantined_rows"].value >= 1


def test_undeclared_json_field_in_the_sample_raises_a_warning_check(processed):
    key = dg.AssetCheckKey(dg.AssetKey(["source", "erp", "order_lines"]), "no_undeclared_fields")
    records = processed["instance"].event_log_storage.get_asset_check_execution_history(key, limit=10)
    evaluations = [r.event.dagster_event.event_specific_data for r in records if r.event and r.event.dagster_event]
    failed = [e for e in evaluations if getattr(e, "passed", True) is False]
    assert len(failed) == 1 and failed[0].severity == dg.AssetCheckSeverity.WARN
    assert failed[0].metadata["undeclared_fields"].value == {"gift_wrap": 1}


def test_materializations_name_the_iceberg_snapshot_they_produced(processed):
    event = processed["instance"].get_latest_materialization_event(dg.AssetKey(["target", "sales", "orders"]))
    snapshot_id = event.asset_materialization.metadata["snapshot_id"].value
    table = processed["res"].query_engine
    rows = table.query("select count(*) from sales.orders", as_of=str(snapshot_id)).rows
    assert rows == [(processed["orders"][0],)]


def test_lake_rebuild_rebuilds_a_target_table_from_the_source_layer_in_one_commit(processed, capsys):
    from lake_platform.cli import main

    sql = "select * exclude (_prepared_at) from sales.orders order by order_id"
    before = processed["res"].query_engine.query(sql).rows
    assert main(["rebuild", "sales.orders"]) == 0
    assert processed["res"].query_engine.query(sql).rows == before
    assert "rebuilding sales.orders" in capsys.readouterr().out


def test_empty_sql_is_refused_with_a_message_not_a_traceback(processed):
    from lake_platform.resources.query_engine.base import QueryError

    with pytest.raises(QueryError, match="no SQL given"):
        processed["res"].query_engine.query("  ")


def test_lake_docs_shows_row_counts_and_lineage_and_the_ui_schema_is_the_queried_schema(processed, tmp_path, capsys):
    from lake_platform.cli import main as lake

    page_path = tmp_path / "tables.html"
    assert lake(["docs", "--out", str(page_path)]) == 0
    page = page_path.read_text()
    total = processed["orders"][0]
    assert f"{total:,} rows; last commit" in page
    assert "(expression: `quantity * unit_price`)" in page
    assert lake(["lineage", "sales.order_lines.line_amount"]) == 0
    assert "(expression: `quantity * unit_price`)" in capsys.readouterr().out
    defs, res = processed["defs"], processed["res"]
    for key, table in (
        (["target", "sales", "orders"], "sales.orders"),
        (["source", "erp", "order_lines"], "erp.order_lines"),
    ):
        asset_key = dg.AssetKey(key)
        schema = defs.resolve_assets_def(asset_key).specs_by_key[asset_key].metadata["dagster/column_schema"]
        queried = res.query_engine.query(f"SELECT * FROM {table} LIMIT 0").columns
        assert sorted(c.name for c in schema.columns) == sorted(queried)


def test_lake_query_lists_tables_names_unknown_ones_and_prints_csv_and_json(processed, capsys, monkeypatch):
    import json

    from lake_platform.cli import main as lake

    total = processed["orders"][0]
    assert lake(["query", "show tables"]) == 0
    listing = capsys.readouterr().out
    assert any(line.split()[:3] == ["sales.orders", "target", str(total)] for line in listing.splitlines())
    assert lake(["query", "select * from sales.order"]) == 1
    err = capsys.readouterr().err
    assert "names a table 'order' that the lake at sqlite:///" in err and "its tables are: erp.customers" in err
    assert "information_schema" not in err
    assert lake(["query", "select count(*) as n from sales.orders", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", str(total)]
    assert lake(["query", "select count(*) as n from sales.orders", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": total}
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("select count(*) as n from sales.orders\n\\q\n"))
    assert lake(["query", "--format", "csv"]) == 0
    assert f"n\n{total}\n" in capsys.readouterr().out
