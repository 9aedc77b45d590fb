"""Retiring a batch is a data operation: its rows leave the source table and every target built from it.

- the source table and every target whose write mode retires by delete (``append``): one commit
  per table deleting the batch's rows (``p_batch_id`` in the source, ``_batch_id`` in targets;
  whole files, from metadata alone);
- every other target (``upsert``, ``overwrite``, ``scd2``): rebuilt from the source table once
  the batch has left it, so each key gets back its latest version (or history) from the
  remaining batches, and a snapshot table gets back the newest remaining snapshot.

Each table records the retirement as the property ``lake.retired.<batch id>`` (in the same
commit for deletes, right after the rebuild for rebuilt targets), so replaying a retire skips
the tables it already finished and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lake_glue.config import IngestConfig, PrepareConfig, TableConfig
from lake_glue.layout import source_table_spec, target_table_spec
from lake_glue.tables import (
    EMPTY_BATCH_PREFIX,
    TableSpec,
    column_equals,
    commit,
    find_table,
    retry_on_conflict,
    snapshot_properties,
)

RETIRED_PREFIX = "lake.retired."


@dataclass(frozen=True)
class RetiredTable:
    """What retiring did to one table."""

    table: str
    action: str  # "deleted", "rebuilt", "already retired" or "no table"


def targets_built_from(
    configs: Sequence[IngestConfig | PrepareConfig], source_config: IngestConfig, table_name: str
) -> list[tuple[PrepareConfig, TableConfig]]:
    """``(prepare config, target table)`` pairs that read ``source_config``'s table ``table_name``."""
    return [
        (config, table)
        for config in configs
        if isinstance(config, PrepareConfig) and config.source.config_name == source_config.config_name
        for table in config.table_config
        if table.source_table_name == table_name
    ]


def delete_batch(catalog: Any, spec: TableSpec, column: str, batch_id: str, reason: str) -> str:
    """Commit the removal of ``batch_id``'s rows from one table; says what it did."""
    table = find_table(catalog, spec.database, spec.name)
    if table is None:
        return "no table"
    if f"{RETIRED_PREFIX}{batch_id}" in table.properties:
        return "already retired"

    def attempt(n: int) -> Any:
        current = table if n == 0 else catalog.load_table(spec.identifier)
        return commit(
            current,
            delete_filter=column_equals(column, batch_id),
            files=[],
            summary=snapshot_properties({"batch_id": batch_id, "retired": reason}),
            set_properties={f"{RETIRED_PREFIX}{batch_id}": reason},
            remove_properties=[f"{EMPTY_BATCH_PREFIX}{batch_id}"],
        )

    retry_on_conflict(f"{spec.label} retire {batch_id}", attempt)
    return "deleted"


def mark_retired(catalog: Any, spec: TableSpec, batch_id: str, reason: str) -> None:
    """Record on a rebuilt table that it no longer holds ``batch_id``."""
    table = find_table(catalog, spec.database, spec.name)
    if table is not None:
        with table.transaction() as tx:
            tx.set_properties({f"{RETIRED_PREFIX}{batch_id}": reason})


def retire_batch(
    catalog: Any,
    source_config: IngestConfig,
    table_name: str,
    prepare_configs: Sequence[IngestConfig | PrepareConfig],
    batch_id: str,
    reason: str,
    rebuild: Callable[[PrepareConfig, TableConfig], None],
    database_prefix: str = "",
) -> list[RetiredTable]:
    """Remove ``batch_id`` from the source table and every target; ``rebuild(config, table)`` rebuilds one target.

    The source goes first: a rebuild reads it, so it must no longer hold the batch.
    """
    source = source_table_spec(source_config, source_config.table(table_name), "unused", database_prefix)
    done = [RetiredTable(source.label, delete_batch(catalog, source, "p_batch_id", batch_id, reason))]
    for config, table in targets_built_from(prepare_configs, source_config, table_name):
        spec = target_table_spec(config, table, "unused", database_prefix=database_prefix)
        if table.mode.retire_by_delete:
            done.append(RetiredTable(spec.label, delete_batch(catalog, spec, "_batch_id", batch_id, reason)))
            continue
        current = find_table(catalog, spec.database, spec.name)
        if current is None:
            done.append(RetiredTable(spec.label, "no table"))
        elif f"{RETIRED_PREFIX}{batch_id}" in current.properties:
            done.append(RetiredTable(spec.label, "already retired"))
        else:
            rebuild(config, table)
            mark_retired(catalog, spec, batch_id, reason)
            done.append(RetiredTable(spec.label, "rebuilt"))
    return done
