"""``lake configs plan`` and ``lake configs suggest``, run in-process on an embedded lake.

Batches are landed and registered as the landing sensor would; the plan then reads them with a
changed config and must write nothing anywhere under ``LAKE_HOME``.
"""

import json
import os
from pathlib import Path

import pytest

from lake_platform.cli import main
from lake_platform.resources import resources_for_env
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform_tests.conftest import CONFIG_DIR, ORDERS_HEADER, order_row

OLD, B2, B3 = "20260101T000000Z", "20260102T000000Z", "20260103T000000Z"
WITH_CHANNEL = ORDERS_HEADER.rstrip("\n") + ";channel\n"


def _files(home: Path) -> dict[str, tuple[int, int]]:
    """Every file under the lake's home with its size and modification time."""
    found = {}
    for folder, _, names in os.walk(home):
        for name in names:
            stat = (Path(folder) / name).stat()
            found[str(Path(folder) / name)] = (stat.st_size, stat.st_mtime_ns)
    return found


@pytest.fixture
def landed(lake_home):
    """Three registered orders batches: a plain one, one with a new channel column, one with a bad total."""
    resources = resources_for_env()
    store, registry = resources["object_store"], resources["partition_registry"]
    batches = {
        OLD: ORDERS_HEADER + order_row(1, "NEW", 10),
        B2: WITH_CHANNEL + "".join(order_row(i, "NEW", 10).rstrip("\n") + f";{c}\n" for i, c in ((2, "web"), (3, ""))),
        B3: ORDERS_HEADER + order_row(4, "NEW", 10) + order_row(5, "NEW", 10).replace("10.00", "ten"),
    }
    for batch_id, text in batches.items():
        prefix = f"landing/erp/orders/{batch_id}/"
        store.put_bytes(store.raw_bucket, prefix + "a.csv", text.encode())
        store.put_bytes(store.raw_bucket, prefix + "_SUCCESS", b"")
        registry.register(BatchRecord(table_id="erp.orders", batch_id=batch_id, files=[prefix + "a.csv"]))
    return lake_home


def _changed_erp(tmp_path: Path, **orders) -> Path:
    document = json.loads((CONFIG_DIR / "erp.json").read_text())
    next(t for t in document["table_config"] if t["table_name"] == "orders").update(orders)
    path = tmp_path / "changed" / "erp.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))
    return path


def test_plan_under_rescue_counts_quarantined_and_rescued_rows_of_the_last_batches_and_writes_nothing(
    landed, spark, tmp_path, capsys
):
    before = _files(landed)
    assert main(["configs", "plan", str(_changed_erp(tmp_path, on_new_columns="rescue")), "--batches", "2"]) == 0
    out = capsys.readouterr().out
    assert f"erp.orders: 2 batches ({B2} .. {B3}), 4 records" in out
    assert "quarantined: 1 (" in out
    assert "rescued into _rescued: 2 rows, fields ['channel']" in out
    assert "columns added: none" in out and "refused" not in out
    # Only the changed table is planned.
    assert "erp.customers" not in out
    assert _files(landed) == before


def test_plan_under_add_names_the_added_column_and_under_fail_the_refused_batch(landed, spark, tmp_path, capsys):
    assert main(["configs", "plan", str(_changed_erp(tmp_path, on_new_columns="add")), "--batches", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 batches" in out and "columns added: ['channel']" in out and "refused" not in out
    # The same change of another field under the default mode: the batch with the new column is refused.
    assert main(["configs", "plan", str(_changed_erp(tmp_path / "x", description="Orders.")), "--batches", "3"]) == 0
    out = capsys.readouterr().out
    assert f"refused: batch {B2} a.csv: CSV header does not match the declared columns: unexpected columns" in out


def test_suggest_names_a_table_that_does_not_exist_yet(lake_home, capsys):
    assert main(["configs", "suggest", "erp.orders"]) == 1
    assert "erp.orders has not been created yet" in capsys.readouterr().err
    assert main(["configs", "suggest", "erp.nope"]) == 1
    assert "'erp.nope' is not an ingest table" in capsys.readouterr().err
