"""Where batches land in the raw bucket: key prefixes of a table and of one batch.

Plain strings, below both ``lake_glue.layout`` (which re-exports them) and ``lake_glue.lineage``
(which names the landing folder in column docs), so neither imports the other for them.
"""

from __future__ import annotations


def landing_table_prefix(landing_prefix: str, table_name: str) -> str:
    """Key prefix under which an ingest table's batches land, ending with ``/``."""
    return f"{landing_prefix.strip('/')}/{table_name}/"


def batch_prefix(landing_prefix: str, table_name: str, batch_id: str) -> str:
    """Key prefix of one landed batch, ending with ``/``."""
    return f"{landing_table_prefix(landing_prefix, table_name)}{batch_id}/"
