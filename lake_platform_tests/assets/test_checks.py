"""The SQL of the standalone primary-key check, run on DuckDB (the local engine) directly."""

import duckdb
import pytest

from lake_platform.assets.checks import duplicate_keys_sql


@pytest.fixture
def conn():
    """A ``sales.orders`` table whose key column is named like an SQL keyword."""
    db = duckdb.connect()
    db.execute('CREATE SCHEMA sales; CREATE TABLE sales.orders ("order" BIGINT, "group" VARCHAR, _batch_id VARCHAR)')
    db.execute(
        "INSERT INTO sales.orders VALUES (1, 'a', 'B1'), (1, 'a', 'B2'), (2, 'b', 'B2'), (2, 'b', 'B2'), (3, 'c', 'B2')"
    )
    yield db
    db.close()


def test_keys_repeated_anywhere_in_the_table_are_counted_once_each(conn):
    sql = duplicate_keys_sql("sales.orders", ["order", "group"])
    assert conn.execute(sql).fetchall() == [(2,)]


def test_within_batches_only_keys_repeated_inside_one_batch_count(conn):
    assert conn.execute(duplicate_keys_sql("sales.orders", ["order"], within_batches=True)).fetchall() == [(1,)]
    first = duplicate_keys_sql("sales.orders", ["order"], within_batches=True, batch_id="20260101T000000Z")
    assert conn.execute(first).fetchall() == [(0,)]


def test_a_batch_id_that_is_not_one_is_refused_before_any_sql_is_built():
    with pytest.raises(ValueError, match="not a UTC timestamp"):
        duplicate_keys_sql("sales.orders", ["order"], within_batches=True, batch_id="x' OR '1'='1")


def test_a_modes_row_predicate_limits_the_rows_whose_keys_are_counted(conn):
    # As an scd2 table counts only its current rows: keys repeat in the table, once among "B2" rows.
    assert conn.execute(duplicate_keys_sql("sales.orders", ["order"])).fetchall() == [(2,)]
    assert conn.execute(duplicate_keys_sql("sales.orders", ["order"], rows="_batch_id = 'B2'")).fetchall() == [(1,)]
