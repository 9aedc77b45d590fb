"""`lake rebuild <table>` beside normal processing: a batch committed meanwhile survives.

A hook between the rebuild's read of the source and its commit lands, ingests and prepares
another batch, as a concurrent run would.
"""

import pytest

from lake_glue import prepare_job
from lake_platform_tests.glue_scripts.test_transactional_tables import _land_customers, _land_lines, query

A, B, C = "20260101T010000Z", "20260102T010000Z", "20260103T010000Z"


@pytest.fixture
def between_read_and_commit(monkeypatch):
    """Run ``action`` once, right after the next rebuild has read the source."""
    original = prepare_job.project_columns
    pending = []

    def hooked(*args, **kwargs):
        if pending:
            pending.pop()()
        return original(*args, **kwargs)

    monkeypatch.setattr(prepare_job, "project_columns", hooked)
    return pending.append


def test_an_append_batch_committed_while_a_rebuild_runs_survives_the_rebuild(lake, between_read_and_commit):
    _land_lines(lake, A, [1, 2])
    lake.prepare("order_lines", A)
    between_read_and_commit(lambda: (_land_lines(lake, B, [3]), lake.prepare("order_lines", B)))
    lake.prepare("order_lines", "rebuild", rebuild=True)
    assert sorted(query(lake, "select _batch_id, count(*) from sales.order_lines group by 1")) == [(A, 2), (B, 1)]


def test_an_overwrite_rebuild_never_puts_an_older_snapshot_back(lake, between_read_and_commit):
    _land_customers(lake, A, ["old"])
    lake.prepare("customers", A)
    between_read_and_commit(lambda: (_land_customers(lake, B, ["new"]), lake.prepare("customers", B)))
    lake.prepare("customers", "rebuild", rebuild=True)
    assert query(lake, "select customer_name, _batch_id from sales.customers") == [("new", B)]
    assert lake.iceberg("customers").properties["lake.snapshot-batch-id"] == B
