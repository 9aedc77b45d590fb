"""``lake query``'s shortcut: the file lists of committed table versions, remembered by version.

A commit remembers its new version's files; a remembered list is used only while the catalog
still points at the same metadata file. A version nobody remembered (a commit killed right
after it landed, a cleared cache) sends the query the full way, which remembers it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from lake_glue.snapshot_files import cache_folder
from lake_platform.query_cache import cached_query
from lake_platform.resources.catalog import LakeCatalog
from lake_platform.resources.query_engine.local import DuckDBQueryEngine
from lake_platform_tests.conftest import ORDERS_HEADER, order_row

CUSTOMERS_HEADER = "customer_id,customer_name,email,country_code,credit_limit,created_at\n"
SQL = "select order_id, order_status from sales.orders order by order_id"


def _land_and_prepare(lake, batch_id, rows):
    lake.land("orders", batch_id, {"a.csv": ORDERS_HEADER + "".join(rows)})
    lake.ingest("orders", batch_id)
    lake.prepare("orders", batch_id)


def test_a_commit_remembers_its_version_and_the_shortcut_gives_the_full_paths_rows(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10), order_row(2, "NEW", 10)])
    full = DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)).query(SQL)
    assert cached_query(lake.catalog, SQL) == (full.columns, full.rows)
    _land_and_prepare(lake, "20260102T000000Z", [order_row(2, "PAID", 11), order_row(3, "NEW", 11)])
    assert cached_query(lake.catalog, SQL)[1] == [(1, "NEW"), (2, "PAID"), (3, "NEW")]


def test_a_version_nobody_remembered_takes_the_full_path_which_remembers_it(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    shutil.rmtree(cache_folder(lake.catalog))
    assert cached_query(lake.catalog, SQL) is None
    assert DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)).query(SQL).rows == [(1, "NEW")]
    assert cached_query(lake.catalog, SQL)[1] == [(1, "NEW")]


def test_lake_query_answered_from_a_remembered_version_imports_neither_dagster_nor_pydantic(lake, tmp_path):
    # The shortcut is for start-up time: Dagster's import alone is several times a DuckDB query.
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10), order_row(2, "NEW", 10)])
    script = (
        "import sys; from lake_platform.cli import main; code = main(['query', sys.argv[1], '--format', 'csv']);"
        "print(sorted(m for m in ('dagster', 'pydantic', 'pyiceberg', 'pyspark') if m in sys.modules)); sys.exit(code)"
    )
    env = {**os.environ, "LAKE_HOME": str(tmp_path), "LAKE_ENV": "local"}
    done = subprocess.run([sys.executable, "-c", script, SQL], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1:] == ["1,NEW", "2,NEW", "[]"]


def test_time_travel_never_replaces_the_current_versions_list(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    first = lake.iceberg("orders").current_snapshot().snapshot_id
    _land_and_prepare(lake, "20260102T000000Z", [order_row(2, "NEW", 11)])
    count = "select count(*) from sales.orders"
    assert DuckDBQueryEngine(catalog=LakeCatalog(uri=lake.catalog)).query(count, as_of=str(first)).rows == [(1,)]
    assert cached_query(lake.catalog, count)[1] == [(2,)]


def test_sql_the_shortcut_cannot_answer_goes_the_full_way_for_its_message(lake):
    _land_and_prepare(lake, "20260101T000000Z", [order_row(1, "NEW", 10)])
    assert cached_query(lake.catalog, "select * from sales.nope join sales.orders using (order_id)") is None
    assert cached_query(lake.catalog, "select count(*) from sales.orders") == (["count_star()"], [(1,)])


def test_each_commit_remembers_exactly_the_files_of_its_version_in_every_write_mode(lake):
    from lake_glue.snapshot_files import remembered
    from lake_glue.tables import data_files

    for n, batch_id in enumerate(["20260101T000000Z", "20260102T000000Z", "20260103T000000Z"]):
        lake.land(
            "customers", batch_id, {"c.csv": CUSTOMERS_HEADER + f"{n},C{n},c@x.org,ZA,1.00,2026-01-01 10:00:00\n"}
        )
        lake.ingest("customers", batch_id)
        lake.prepare("customers", batch_id)
        _land_and_prepare(lake, batch_id, [order_row(n, "NEW", 10), order_row(n + 1, "PAID", 11)])
        lines = "".join(
            json.dumps({"order_id": n, "line_number": i, "sku": "S", "quantity": 1, "unit_price": 2.5}) + "\n"
            for i in (1, 2)
        )
        lake.land("order_lines", batch_id, {"l.jsonl": lines})
        lake.ingest("order_lines", batch_id)
        lake.prepare("order_lines", batch_id)
        for name in ("customers", "orders", "order_lines"):
            table = lake.iceberg(name)
            expected = sorted(p.removeprefix("file://") for p in data_files(table))
            assert sorted(remembered(lake.catalog, table.metadata_location)["files"]) == expected, (name, batch_id)
