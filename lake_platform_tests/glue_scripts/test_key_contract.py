"""The table remembers its whole key contract: write mode, primary key in order, key types, bucket function.

A config edit that would put one key in two places is refused by every job, naming the table,
the stored and the configured contract, and `lake rebuild`; the table keeps what it held.
"""

import pytest

from lake_glue.config import TableConfig
from lake_glue.evolution import SchemaEvolutionError
from lake_glue.layout import key_contract
from lake_glue.tables import KEY_CONTRACT_PROPERTY, KeyContractChanged
from lake_platform_tests.glue_scripts.test_transactional_tables import _land_lines, _land_orders

FIRST, SECOND = "20260101T000000Z", "20260102T000000Z"


def _table(config: dict, name: str) -> dict:
    return next(t for t in config["table_config"] if t["table_name"] == name)


def _column(table: dict, name: str) -> dict:
    return next(c for c in table["columns"] if c["name"] == name)


def _refused(call, table_name: str):
    with pytest.raises(KeyContractChanged, match=rf"{table_name} stores the key contract \[.*\], the config now says"):
        call()


def test_reordering_the_primary_key_of_an_append_table_is_refused_and_the_table_keeps_its_rows(lake):
    _land_lines(lake, FIRST, [1, 2])
    lake.prepare("order_lines", FIRST)
    lines = _table(lake.sales, "order_lines")
    lines["primary_key"] = list(reversed(lines["primary_key"]))
    _land_lines(lake, SECOND, [3])
    with pytest.raises(KeyContractChanged, match=r"primary_key=\(order_id bigint, line_number int\).*lake rebuild"):
        lake.prepare("order_lines", SECOND)
    assert lake.target("order_lines").count() == 2


def test_narrowing_a_key_column_type_is_refused_by_the_prepare_job(lake):
    _land_orders(lake, FIRST, [(1, "NEW", 10)])
    lake.prepare("orders", FIRST)
    _column(_table(lake.sales, "orders"), "order_id")["type"] = "int"
    _land_orders(lake, SECOND, [(1, "SHIPPED", 11)])
    _refused(lambda: lake.prepare("orders", SECOND), "sales.orders")
    assert [r.order_status for r in lake.target("orders").collect()] == ["NEW"]


def test_narrowing_a_key_column_type_is_refused_by_the_ingest_job(lake):
    # The ingest job checks every declared type against the table before it touches it (types
    # never change implicitly), so a narrowed key is refused there, naming the column and types.
    _land_orders(lake, FIRST, [(1, "NEW", 10)])
    _column(_table(lake.erp, "orders"), "order_id")["type"] = "int"
    with pytest.raises(
        SchemaEvolutionError, match=r"column 'order_id' is long in the table and the config declares 'int'"
    ):
        _land_orders(lake, SECOND, [(2, "NEW", 10)])
    assert lake.iceberg("orders", database="erp").scan().to_arrow().num_rows == 1


def test_switching_append_to_upsert_is_refused_and_the_table_keeps_every_row(lake):
    _land_lines(lake, FIRST, [1, 2])
    lake.prepare("order_lines", FIRST)
    lines = _table(lake.sales, "order_lines")
    lines.update(write_mode="upsert", partitions=[])
    _land_lines(lake, SECOND, [1])
    with pytest.raises(KeyContractChanged, match=r"\[write_mode=append, .*\], the config now says \[write_mode=upsert"):
        lake.prepare("order_lines", SECOND)
    assert lake.target("order_lines").count() == 2


def test_an_unchanged_config_is_accepted_and_a_table_without_a_stored_contract_gets_it_recorded(lake):
    _land_lines(lake, FIRST, [1, 2])
    lake.prepare("order_lines", FIRST)
    table = lake.iceberg("order_lines")
    wanted = key_contract(TableConfig.model_validate(_table(lake.sales, "order_lines")))
    assert table.properties[KEY_CONTRACT_PROPERTY] == wanted
    # As a table created before contracts were stored.
    with table.transaction() as tx:
        tx.remove_properties(KEY_CONTRACT_PROPERTY)
    _land_lines(lake, SECOND, [3])
    assert lake.prepare("order_lines", SECOND)["target_rows"] == 3
    assert lake.iceberg("order_lines").properties[KEY_CONTRACT_PROPERTY] == wanted
