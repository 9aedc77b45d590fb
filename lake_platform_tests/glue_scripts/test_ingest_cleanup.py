"""Whatever phase of an ingest fails, its cleanup runs: a cached parse is released and an
attempt's data and quarantine folders that nothing committed are removed. A killed job gets no
cleanup, and changes nothing: its rerun lands the batch once.

The landed files are read once, by the write of the valid rows; what that read found is checked
after it, so a batch refused then must leave no data files behind.
"""

import signal
from urllib.parse import urlparse

import pytest

from lake_glue import failpoints, ingest_job
from lake_platform_tests.conftest import ORDERS_HEADER, order_row
from lake_platform_tests.glue_scripts.test_killed_jobs import _ingest
from lake_platform_tests.glue_scripts.test_transactional_tables import query

BASE, NEXT = "20260101T000000Z", "20260102T000000Z"
BAD_ROW = "9;x;NEW;1;ZAR;;\n"


class Injected(RuntimeError):
    """The error a failpoint raises in these tests (the real one kills the process)."""


def _persisted(spark) -> int:
    return spark.sparkContext._jsc.getPersistentRDDs().size()


def _raise_at(monkeypatch, point: str) -> None:
    real = failpoints.hit

    def hit(name: str) -> None:
        if name == point:
            raise Injected(name)
        real(name)

    monkeypatch.setattr(failpoints, "hit", hit)


def _attempts(lake, batch: str) -> list:
    root = lake.root / "lake-source" / "quarantine" / lake.erp["target"]["prefix"] / "orders" / f"p_batch_id={batch}"
    return sorted(root.glob("attempt=*")) if root.exists() else []


def _land_next(lake, rows: str, **more: str) -> None:
    lake.land("orders", BASE, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10)})
    lake.ingest("orders", BASE)
    lake.land("orders", NEXT, {"a.csv": ORDERS_HEADER + rows, **more})


def _data_files(lake) -> list:
    return sorted(p for p in (lake.root / "lake-source").rglob("*.parquet") if "quarantine" not in p.parts)


# An error inside the commit may have committed it: that attempt's quarantine folder then stays.
@pytest.mark.parametrize("point, attempts_left", [("ingest:cast", 0), ("commit:before", 1)])
def test_an_error_after_the_parse_still_releases_its_cache_and_commits_nothing(
    lake, spark, monkeypatch, point, attempts_left
):
    _land_next(lake, order_row(2, "NEW", 10) + BAD_ROW)
    before = _persisted(spark)
    _raise_at(monkeypatch, point)
    with pytest.raises(Injected):
        lake.ingest("orders", NEXT)
    assert _persisted(spark) == before
    assert len(_attempts(lake, NEXT)) == attempts_left
    assert query(lake, "select _batch_id, count(*) from erp.orders group by 1") == [(BASE, 1)]


def test_a_batch_refused_after_its_quarantine_was_written_leaves_no_attempt_folder(lake, spark):
    next(t for t in lake.erp["table_config"] if t["table_name"] == "orders")["acceptance"] = {
        "max_quarantine_rate": 0.1
    }
    _land_next(lake, order_row(2, "NEW", 10) + BAD_ROW)
    before = _persisted(spark)
    with pytest.raises(ingest_job.IngestError, match=r"1 of 2 records quarantined \(50.0%\)"):
        lake.ingest("orders", NEXT)
    assert _persisted(spark) == before
    assert _attempts(lake, NEXT) == []


def test_a_committed_batch_keeps_the_quarantine_its_snapshot_names(lake):
    _land_next(lake, order_row(2, "NEW", 10) + BAD_ROW)
    figures = lake.ingest("orders", NEXT)
    named = urlparse(figures["quarantine_uri"])
    assert [a.name for a in _attempts(lake, NEXT)] == [named.path.rsplit("/", 1)[-1]]


# ingest:cast is before the one pass over the files; ingest:stored after it wrote the valid rows
# (data files no snapshot names, which the rerun neither reads nor commits).
@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest:cast", "ingest:stored"])
def test_an_ingest_killed_before_or_after_its_write_changes_nothing_and_its_rerun_lands_the_batch(
    lake, tmp_path, point
):
    _land_next(lake, order_row(2, "NEW", 10) + order_row(3, "NEW", 10))
    killed = _ingest(lake, tmp_path, "orders", NEXT, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert query(lake, "select _batch_id, count(*) from erp.orders group by 1") == [(BASE, 1)]
    lake.ingest("orders", NEXT)  # the re-run in-process, on the warm session: one JVM start less
    assert sorted(query(lake, "select _batch_id, count(*) from erp.orders group by 1")) == [(BASE, 1), (NEXT, 2)]


def test_a_batch_refused_after_its_rows_were_written_leaves_no_data_files(lake):
    # b.csv's header is read by the same pass that writes a.csv's rows: the refusal comes after the write.
    _land_next(lake, order_row(2, "NEW", 10), **{"b.csv": "order_id;status\n3;NEW\n"})
    before = _data_files(lake)
    with pytest.raises(ingest_job.IngestError, match=r"b\.csv: CSV header does not match the declared columns"):
        lake.ingest("orders", NEXT)
    assert _data_files(lake) == before
    assert query(lake, "select _batch_id, count(*) from erp.orders group by 1") == [(BASE, 1)]


def test_a_file_changed_before_the_quarantine_reads_it_again_refuses_the_batch(lake, monkeypatch):
    _land_next(lake, order_row(2, "NEW", 10) + BAD_ROW)
    landed = lake.root / "lake-raw" / lake.erp["source"]["landing_prefix"] / "orders" / NEXT / "a.csv"
    real = failpoints.hit

    def rewrite_after_the_write(name: str) -> None:
        if name == "ingest:stored":  # the valid rows are written; the rejected ones are read again next
            landed.write_text(ORDERS_HEADER + order_row(2, "NEW", 10) + order_row(4, "NEW", 10) + BAD_ROW)
        real(name)

    monkeypatch.setattr(failpoints, "hit", rewrite_after_the_write)
    before = _data_files(lake)
    with pytest.raises(ingest_job.IngestError, match=r"files changed while the batch was read.*'a\.csv'"):
        lake.ingest("orders", NEXT)
    assert _data_files(lake) == before and _attempts(lake, NEXT) == []
    monkeypatch.undo()
    assert lake.ingest("orders", NEXT)["source_rows"] == 2  # the file as it is now, read once
