"""The committed snapshot is the only authority for quarantine folders.

An ingest never deletes another attempt's quarantine folder: a run of the same batch still going
(a Glue run that outlived its Dagster run, a killed ``lake`` process) may commit it yet.
Maintenance removes the attempt folders that no retained snapshot names, once they are older
than the orphan-file window.
"""

from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

from lake_glue import failpoints
from lake_platform.maintenance import maintain_table
from lake_platform_tests.conftest import ORDERS_HEADER, order_row

BATCH = "20260101T000000Z"


def _folder(lake, uri: str):
    parsed = urlparse(uri)
    return lake.root / parsed.netloc / parsed.path.lstrip("/")


def _source(lake):
    return lake.iceberg("orders", database=lake.erp["target"]["database"])


def _named_quarantine(lake) -> str:
    return _source(lake).current_snapshot().summary.additional_properties["lake.quarantine-uri"]


def _overlapping_runs(lake, monkeypatch) -> tuple[dict, dict]:
    """Run A writes its quarantine attempt, run B of the same batch commits, then A commits."""
    lake.land("orders", BATCH, {"a.csv": ORDERS_HEADER + order_row(1, "NEW", 10) + "2;x;NEW;1;ZAR;;\n"})
    real = failpoints.hit
    run_b: list[dict] = []

    def hit(name: str) -> None:
        if name == "commit:before" and not run_b:
            run_b.append({})
            run_b[0] = lake.ingest("orders", BATCH)
        real(name)

    monkeypatch.setattr(failpoints, "hit", hit)
    run_a = lake.ingest("orders", BATCH)
    return run_a, run_b[0]


def test_two_overlapping_runs_of_one_batch_leave_the_quarantine_the_current_snapshot_names(lake, monkeypatch):
    run_a, run_b = _overlapping_runs(lake, monkeypatch)
    assert run_a["quarantine_uri"] != run_b["quarantine_uri"]
    named = _named_quarantine(lake)
    assert named == run_a["quarantine_uri"]
    assert any(_folder(lake, named).glob("*.json"))
    assert _source(lake).current_snapshot().summary.additional_properties["total-records"] == "1"


def test_maintenance_removes_only_old_quarantine_attempts_no_retained_snapshot_names(lake, monkeypatch):
    run_a, run_b = _overlapping_runs(lake, monkeypatch)
    now = datetime.now(timezone.utc)

    def maintain(days: int):
        return maintain_table(
            _source(lake), retain=timedelta(days=7), orphan_age=timedelta(hours=72), now=now + timedelta(days=days)
        )

    # Young, or named by a retained snapshot: both stay.
    assert maintain(0).quarantine_removed == []
    assert maintain(5).quarantine_removed == []
    # Run B's snapshot expired and its folder old: it goes; the current snapshot's stays.
    report = maintain(30)
    assert [r.rsplit("/", 1)[-1] for r in report.quarantine_removed] == [run_b["quarantine_uri"].rsplit("/", 1)[-1]]
    assert not _folder(lake, run_b["quarantine_uri"]).exists()
    assert any(_folder(lake, _named_quarantine(lake)).glob("*.json"))
