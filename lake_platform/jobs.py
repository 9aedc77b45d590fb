"""Jobs: one partitioned job per ingest table (raw -> source -> target for one batch)."""

from __future__ import annotations

import dagster as dg


def table_jobs(table_assets: list) -> list:
    """The per-table jobs built by the asset factory."""
    return [t.job for t in table_assets]
