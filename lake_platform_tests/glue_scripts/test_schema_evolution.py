"""Schema evolution per table (``on_new_columns``): a new column landed under each mode, then the
source table, the checks and the targets afterwards; replays, concurrent batches and a killed commit.

The jobs run in-process on the session's shared SparkSession, except the kill test (a subprocess,
as the local Glue runner runs a job).
"""

import copy
import json
import signal
from pathlib import Path

import dagster as dg
import pytest

from lake_glue.config import ConfigError, load_config_file, parse_config
from lake_glue.evolution import ADDED_DOC, RESCUED_COLUMN, SchemaEvolutionError
from lake_glue.ingest_job import IngestError
from lake_platform.assets.checks import undeclared_fields_check
from lake_platform.cli import main
from lake_platform_tests.conftest import ERP, ORDERS_HEADER, SALES, order_row
from lake_platform_tests.glue_scripts.test_killed_jobs import _ingest
from lake_platform_tests.glue_scripts.test_transactional_tables import _at_once, query

BASE, NEXT = "20260101T000000Z", "20260102T000000Z"
ORDERS = dg.AssetKey(["source", "erp", "orders"])
# The ERP starts sending a sales channel as the last column of its orders export.
WITH_CHANNEL = ORDERS_HEADER.rstrip("\n") + ";channel\n"


def _channel_rows(*rows: tuple[int, str]) -> str:
    return WITH_CHANNEL + "".join(order_row(i, "NEW", 10).rstrip("\n") + f";{channel}\n" for i, channel in rows)


def _mode(lake, table: str, mode: str) -> dict:
    config = next(t for t in lake.erp["table_config"] if t["table_name"] == table)
    config["on_new_columns"] = mode
    return config


def _source(lake, table: str):
    return lake.iceberg(table, database="erp")


def _rows(lake, table: str, *columns: str) -> list[tuple]:
    arrow = _source(lake, table).scan(selected_fields=columns).to_arrow()
    return sorted(zip(*[arrow.column(c).to_pylist() for c in columns]), key=lambda r: str(r))


def test_a_new_csv_column_refuses_the_batch_by_default_naming_file_and_column(lake):
    lake.land("orders", BASE, {"drift.csv": _channel_rows((1, "web"))})
    with pytest.raises(IngestError, match=r"drift.csv: CSV header does not match .* unexpected columns \['channel'\]"):
        lake.ingest("orders", BASE)


def test_rescue_keeps_the_batch_and_each_records_extra_column_text_in_rescued(lake):
    _mode(lake, "orders", "rescue")
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", BASE)
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "web"), (3, " shop "), (4, ""))})
    figures = lake.ingest("orders", NEXT)
    assert (figures["source_rows"], figures["undeclared_fields"]) == (3, {"channel": 3})
    assert _rows(lake, "orders", "order_id", RESCUED_COLUMN) == [
        (1, None),
        (2, '{"channel": "web"}'),
        (3, '{"channel": " shop "}'),
        (4, '{"channel": ""}'),
    ]
    assert "channel" not in {f.name for f in _source(lake, "orders").schema().fields}
    check = undeclared_fields_check(ORDERS, "erp.orders", figures)
    assert not check.passed and "rescued into _rescued" in check.description and "'channel'" in check.description


def test_add_puts_the_new_column_in_the_table_as_a_nullable_string_with_the_batch(lake, monkeypatch, capsys):
    _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", BASE)
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "web"), (3, ""))})
    figures = lake.ingest("orders", NEXT)
    assert figures["added_columns"] == ["channel"]
    source = _source(lake, "orders")
    field = source.schema().find_field("channel")
    assert str(field.field_type) == "string" and not field.required and field.doc.startswith(ADDED_DOC)
    # The empty text is the table's null value, as for a declared string column; BASE predates the column.
    assert _rows(lake, "orders", "order_id", "channel") == [(1, None), (2, "web"), (3, None)]
    # One commit: the snapshot that added the batch's rows is the one whose schema has the column.
    history = [s for s in source.metadata.snapshots if s.summary.additional_properties.get("lake.batch-id") == NEXT]
    assert {s.schema_id for s in history} == {source.schema().schema_id}
    assert RESCUED_COLUMN not in {f.name for f in source.schema().fields}
    check = undeclared_fields_check(ORDERS, "erp.orders", figures)
    assert not check.passed and "['channel'] were added" in check.description
    assert "`lake configs suggest erp.orders`" in check.description
    # The config is unchanged; `lake configs suggest` prints the JSON Patch that declares the column.
    assert "channel" not in [c["name"] for c in _mode(lake, "orders", "add")["columns"]]
    patch = _suggest(lake, monkeypatch, capsys, "erp.orders")
    index = [t["table_name"] for t in lake.erp["table_config"]].index("orders")
    assert patch == [
        {
            "op": "add",
            "path": f"/table_config/{index}/columns/-",
            "value": {"name": "channel", "type": "string", "nullable": True},
        }
    ]
    patched = parse_config(_apply(lake.erp, patch), "patched erp")
    assert patched.table("orders").column_names[-1] == "channel"


def _suggest(lake, monkeypatch, capsys, table: str) -> list[dict]:
    """``lake configs suggest <table>`` against the test's lake (its catalog is ``LAKE_HOME/catalog.sqlite``)."""
    monkeypatch.setenv("LAKE_HOME", str(Path(lake.catalog.removeprefix("sqlite:///")).parent))
    monkeypatch.setenv("LAKE_CONFIG_DIR", str(lake.config_dir()))
    monkeypatch.setenv("LAKE_ENV", "local")
    capsys.readouterr()
    assert main(["configs", "suggest", table]) == 0
    return json.loads(capsys.readouterr().out)


def _apply(document: dict, patch: list[dict]) -> dict:
    """RFC 6902 ``add`` operations whose path ends in ``/-`` (append to an array), as suggest prints them."""
    document = copy.deepcopy(document)
    for operation in patch:
        assert operation["op"] == "add" and operation["path"].endswith("/-")
        node = document
        for part in operation["path"].strip("/").split("/")[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node.append(operation["value"])
    return document


def test_add_takes_an_undeclared_json_field_as_its_text(lake):
    _mode(lake, "order_lines", "add")
    line = {"order_id": 1, "line_number": 1, "sku": "S", "quantity": 2, "unit_price": 1.25}
    text = json.dumps({**line, "gift_wrap": True}) + "\n" + json.dumps({**line, "line_number": 2}) + "\n"
    lake.land("order_lines", BASE, {"l.jsonl": text})
    figures = lake.ingest("order_lines", BASE)
    assert figures["added_columns"] == ["gift_wrap"] and figures["source_rows"] == 2
    # A record without the field reads it as null (a missing JSONL field is never a refusal).
    assert _rows(lake, "order_lines", "line_number", "gift_wrap") == [(1, "true"), (2, None)]


def test_replaying_an_add_batch_replaces_its_rows_and_adds_the_column_once(lake):
    _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": _channel_rows((1, "web"), (2, "shop"))})
    lake.ingest("orders", BASE)
    again = lake.ingest("orders", BASE)
    assert again["source_rows"] == 2
    assert _rows(lake, "orders", "order_id", "channel") == [(1, "web"), (2, "shop")]
    assert [f.name for f in _source(lake, "orders").schema().fields].count("channel") == 1


def test_two_add_batches_of_one_table_at_once_both_land_and_add_the_column_once(lake):
    _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": _channel_rows((1, "web"))})
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "shop"))})
    _at_once(lambda: lake.ingest("orders", BASE), lambda: lake.ingest("orders", NEXT))
    assert _rows(lake, "orders", "order_id", "channel") == [(1, "web"), (2, "shop")]
    assert [f.name for f in _source(lake, "orders").schema().fields].count("channel") == 1


@pytest.mark.parametrize("mode", ["rescue", "add"])
def test_a_csv_header_missing_a_declared_column_is_refused_in_every_mode(lake, mode):
    _mode(lake, "orders", mode)
    header = ORDERS_HEADER.replace(";currency", "")
    lake.land("orders", BASE, {"short.csv": header + "1;1;NEW;10.00;01/01/2026 10:00:00;01/01/2026 10:00:00\n"})
    with pytest.raises(IngestError, match=r"short.csv: CSV header does not match .* missing columns \['currency'\]"):
        lake.ingest("orders", BASE)


def test_add_refuses_a_field_that_cannot_be_a_column_naming_it(lake):
    _mode(lake, "order_lines", "add")
    line = {"order_id": 1, "line_number": 1, "sku": "S", "quantity": 2, "unit_price": 1.25}
    lake.land("order_lines", BASE, {"l.jsonl": json.dumps({**line, "Gift Wrap": 1}) + "\n"})
    with pytest.raises(SchemaEvolutionError, match=r"order_lines/20260101T000000Z: field 'Gift Wrap' cannot"):
        lake.ingest("order_lines", BASE)
    assert _source(lake, "order_lines").current_snapshot() is None


def test_targets_see_a_new_source_column_only_once_their_config_selects_it(lake, monkeypatch, capsys):
    _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": _channel_rows((1, "web"))})
    lake.ingest("orders", BASE)
    lake.prepare("orders", BASE)
    assert "channel" not in lake.target("orders").columns
    # The patch `lake configs suggest` prints is applied, and the prepare table selects the column.
    patched = _apply(lake.erp, _suggest(lake, monkeypatch, capsys, "erp.orders"))
    lake.erp["table_config"] = patched["table_config"]
    target = next(t for t in lake.sales["table_config"] if t["table_name"] == "orders")
    target["columns"].append({"name": "channel", "type": "string"})
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "shop"))})
    lake.ingest("orders", NEXT)
    lake.prepare("orders", NEXT)
    assert sorted((r["order_id"], r["channel"]) for r in lake.target("orders").collect()) == [(1, None), (2, "shop")]


def test_an_added_column_declared_with_another_type_is_refused_not_converted(lake):
    config = _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": _channel_rows((1, "7"))})
    lake.ingest("orders", BASE)
    config["columns"].append({"name": "channel", "type": "bigint", "nullable": True})
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "8"))})
    with pytest.raises(
        SchemaEvolutionError, match=r"column 'channel' is string in the table and the config declares 'bigint'"
    ):
        lake.ingest("orders", NEXT)
    assert str(_source(lake, "orders").schema().find_field("channel").field_type) == "string"
    assert _rows(lake, "orders", "order_id", "channel") == [(1, "7")]


@pytest.mark.slow
def test_an_add_batch_killed_mid_commit_lands_neither_its_column_nor_its_rows(lake, tmp_path):
    _mode(lake, "orders", "add")
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", BASE)
    lake.land("orders", NEXT, {"b.csv": _channel_rows((2, "web"))})
    killed = _ingest(lake, tmp_path, "orders", NEXT, "commit:staged")
    assert killed.returncode == -signal.SIGKILL
    assert "channel" not in {f.name for f in _source(lake, "orders").schema().fields}
    assert query(lake, "select _batch_id, count(*) from erp.orders group by 1") == [(BASE, 1)]
    # The re-run (in-process: one JVM start less) lands both together.
    assert lake.ingest("orders", NEXT)["added_columns"] == ["channel"]
    # What an analyst reads (DuckDB over the snapshot's files, old files without the column).
    assert query(lake, "select order_id, channel from erp.orders order by 1") == [(1, None), (2, "web")]


def test_an_unknown_mode_is_a_config_error_naming_the_file_and_the_field(tmp_path):
    document = copy.deepcopy(ERP)
    document["table_config"][1]["on_new_columns"] = "merge"
    path = tmp_path / "erp.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ConfigError, match=rf"{path}: invalid config\n  field table_config.1.on_new_columns: Input"):
        load_config_file(path)
    prepare = copy.deepcopy(SALES)
    prepare["table_config"][0]["on_new_columns"] = "add"
    with pytest.raises(
        ConfigError, match=r"sales.json: (.|\n)*table .customers.: on_new_columns applies to ingest tables only"
    ):
        parse_config(prepare, "sales.json")
