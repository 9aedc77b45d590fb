"""Column lineage: one derivation text per column, the same in the Dagster UI, the Iceberg/Glue
column docs, ``lake lineage`` and ``lake docs``."""

import dagster as dg
import pytest

from lake_glue.config import IngestConfig, PrepareConfig, load_config_dir, load_config_file
from lake_glue.layout import source_table_spec, target_table_spec
from lake_platform.cli import main as lake
from lake_platform.docs_page import TableStats, render
from lake_platform.lineage import describe, find, lineage_graph
from lake_platform_tests.conftest import CONFIG_DIR


@pytest.fixture(scope="module")
def graph():
    return lineage_graph(load_config_dir(CONFIG_DIR))


def test_a_computed_column_names_its_expression_and_each_input_down_to_the_raw_files(graph):
    lines = describe(graph, "sales.order_lines.line_amount")
    assert lines[1] == (
        "  Line revenue before order-level discounts. ← `erp.order_lines.quantity`,"
        " `erp.order_lines.unit_price` (expression: `quantity * unit_price`), cast to decimal(12,2)"
    )
    assert any(
        line.startswith(
            "  ← erp.order_lines.quantity (int, source layer): ← raw column `quantity`"
            " of the landed files in `landing/erp/order_lines/<batch_id>/` (JSONL, utf-8)"
        )
        for line in lines
    )


def test_a_source_column_names_its_raw_column_mask_and_its_readers(graph):
    _, column = find(graph, "erp.orders.ordered_at")
    assert "raw column `ordered_at`" in column.doc and "with mask 'dd/MM/yyyy HH:mm:ss'" in column.doc
    _, quantity = find(graph, "erp.order_lines.quantity")
    assert quantity.downstream == ["sales.order_lines.quantity", "sales.order_lines.line_amount"]


def test_the_schema_lists_the_lineage_and_partition_columns_analysts_query(graph):
    orders = graph["sales.orders"]
    builtins = [c.name for c in orders.columns if c.builtin]
    assert builtins == ["_batch_id", "p_ingest_day", "_prepared_at", "p_bucket"]
    assert [c.name for c in graph["erp.orders"].columns if c.builtin] == [
        "_source_file",
        "_source_line",
        "_batch_id",
        "_ingested_at",
        "p_ingest_day",
        "p_batch_id",
    ]


def test_the_dagster_ui_shows_the_same_text_as_the_catalog_docs_and_lake_lineage(graph):
    import lake_platform.definitions as module

    defs = module.build_definitions()
    erp = load_config_file(CONFIG_DIR / "erp.json")
    sales = load_config_file(CONFIG_DIR / "sales.json")
    assert isinstance(erp, IngestConfig) and isinstance(sales, PrepareConfig)
    for key, table_name in (("source/erp/orders", "erp.orders"), ("target/sales/order_lines", "sales.order_lines")):
        asset_key = dg.AssetKey(key.split("/"))
        schema = defs.resolve_assets_def(asset_key).specs_by_key[asset_key].metadata["dagster/column_schema"]
        ui = {c.name: c.description for c in schema.columns}
        assert ui == {c.name: c.doc for c in graph[table_name].columns}
        assert all(ui.values()), "every column has a description"
    orders = erp.table("orders")
    assert source_table_spec(erp, orders, "b").docs == {c.name: c.doc for c in graph["erp.orders"].columns}
    lines = sales.table("order_lines")
    assert target_table_spec(sales, lines, "b", erp).docs == {c.name: c.doc for c in graph["sales.order_lines"].columns}


def test_lake_lineage_names_an_unknown_column_and_the_nearest_one(capsys):
    assert lake(["lineage", "sales.orders.order_totl"]) == 1
    err = capsys.readouterr().err
    assert "sales.orders has no column 'order_totl' (did you mean 'order_total'?)" in err
    assert lake(["lineage", "sales.order"]) == 1
    assert "no lake table 'sales.order' (did you mean 'sales.orders'?)" in capsys.readouterr().err


def test_the_docs_page_links_tables_escapes_text_and_marks_missing_tables(graph):
    page = render(graph, {"sales.orders": TableStats(1234, "2026-01-01 00:00:00 UTC", "20260101T000000Z")}, "now")
    assert '<section id="sales.orders">' in page and "1,234 rows; last commit 2026-01-01 00:00:00 UTC" in page
    assert 'href="#erp.orders"' in page
    assert "quantity * unit_price" in page and "<script" not in page
    assert "no catalog information" in page
