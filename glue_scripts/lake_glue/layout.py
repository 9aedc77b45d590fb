"""Where a batch lives in the source layer; shared by the ingest job (writer) and prepare (reader)."""

from __future__ import annotations

from lake_glue.storage import join_uri


def batch_day(batch_id: str) -> str:
    """``YYYY-MM-DD`` of a ``YYYYMMDDTHHMMSSZ`` batch id: the batch's ``p_ingest_day``."""
    return f"{batch_id[0:4]}-{batch_id[4:6]}-{batch_id[6:8]}"


def source_partitions(table: dict) -> list[str]:
    """Source-layer partition columns: the configured ones, always ending in ``p_batch_id``.

    One folder per batch is what makes a re-run replace exactly that batch.
    """
    return [p for p in table.get("partitions", []) if p != "p_batch_id"] + ["p_batch_id"]


def source_batch_path(table_uri: str, table: dict, batch_id: str) -> str:
    """The folder holding exactly one batch of a source table."""
    values = {"p_ingest_day": batch_day(batch_id), "p_batch_id": batch_id}
    return join_uri(table_uri, *[f"{p}={values[p]}" for p in source_partitions(table)])
