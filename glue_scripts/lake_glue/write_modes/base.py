"""What every write mode declares and does, and the registry the rest of the platform asks.

A write mode is one class in one file of this package, registered with :func:`register`. Config
validation, the table layout (partitions, built-in columns, key contract), the Dagster checks,
maintenance, lineage, retire and the prepare job all ask :func:`write_mode_of` instead of
knowing the modes, so a new mode is a new file here (plus its tests and docs).

This module (and every mode's module scope) imports no Spark: the Dagster side validates
configs with it. The Spark work happens inside :meth:`WriteMode.commit`.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from lake_glue.storage import delete_path
from lake_glue.tables import (
    TableSpec,
    commit,
    data_files,
    key_contract_properties,
    load_table,
    read_files,
    retry_on_conflict,
    surely_not_committed,
    write_files,
)

if TYPE_CHECKING:
    from lake_glue.config import TableConfig

# (name, type, description) of a column the platform adds to a table.
Builtin = tuple[str, str, str]
# A committed Iceberg table and the figures the mode reports for its commit.
Committed = tuple[Any, dict[str, Any]]
T = TypeVar("T")


class PrepareError(ValueError):
    """The batch cannot be prepared; the message names the batch and the column."""


class StaleRebuild(PrepareError):
    """The target table changed after a rebuild read the source; its rows would drop that commit."""


class UnknownWriteMode(ValueError):
    """A config names a write mode no file of ``lake_glue/write_modes/`` registers."""


@dataclass
class PrepareBatch:
    """One prepared batch on its way into its target table: everything a mode's commit needs.

    ``rows`` are the projected, cast batch rows (persisted by the job); ``iceberg`` is the target
    table as loaded before the first commit attempt; ``pinned`` is the snapshot a rebuild read
    the source over (a rebuild may commit over that snapshot only). ``source_rows()`` reads every
    batch's projected source rows again (for modes whose rows derive from all batches, as a
    history does); each call sees the batches committed since.
    """

    spark: Any
    catalog: Any
    spec: TableSpec
    table: TableConfig
    rows: Any
    batch_id: str
    row_count: int
    label: str
    rebuild: bool
    pinned: int | None
    summary: dict[str, str]
    max_rows: int
    iceberg: Any
    contract: str
    cleanup: contextlib.ExitStack
    source_rows: Callable[[], Any]

    def current(self, attempt: int, folder: str | None = None) -> Any:
        """The target table for commit ``attempt``, reloaded after a lost commit and checked.

        Refuses a table whose key contract differs (unless rebuilding), and a rebuild over a
        snapshot other than the pinned one; ``folder`` (files written for this commit, never
        committed) is then removed.
        """
        table = self.iceberg if attempt == 0 else load_table(self.catalog, self.spec)
        key_contract_properties(table, self.contract, self.label, self.rebuild)
        if self.rebuild:
            check_pin(self, table, folder)
        return table

    def contract_properties(self, table: Any) -> dict[str, str]:
        """The key-contract property the commit sets on ``table``."""
        return key_contract_properties(table, self.contract, self.label, self.rebuild)

    def read(self, table: Any, row_filter: Any) -> Any:
        """The committed rows of ``table`` that ``row_filter`` matches (whole files), or None."""
        files = data_files(table, row_filter)
        return read_files(self.spark, table, files) if files else None

    def retry(self, attempt: Callable[[int], T]) -> T:
        """Run ``attempt(n)`` until it commits (each try re-reads the table); conflicts name the batch."""
        return retry_on_conflict(f"{self.spec.label} {self.label}", attempt)

    def write_and_commit(
        self, current: Any, rows: Any, delete_filter: Any, properties: dict[str, str]
    ) -> tuple[Any, list[str]]:
        """Write ``rows`` as data files and commit them over what ``delete_filter`` matches in ``current``.

        The files are removed only when the commit surely did not land: after any other error
        they may be the files of the table's current snapshot. Returns the committed table and the files.
        """
        folder, files = write_files(self.spark, rows, self.spec, self.max_rows)
        try:
            committed = commit(
                current, delete_filter=delete_filter, files=files, summary=self.summary, set_properties=properties
            )
        except Exception as exc:
            if surely_not_committed(exc):
                delete_path(self.spark, folder)
            raise
        return committed, files

    def duplicate_keys(self, rows: Any = None) -> int:
        """How many primary-key values repeat in ``rows`` (default: the batch); 0 without a key."""
        from lake_glue.transforms import duplicate_keys

        pk = list(self.table.primary_key)
        return duplicate_keys(self.rows if rows is None else rows, pk) if pk else 0


def check_pin(batch: PrepareBatch, current: Any, folder: str | None = None) -> None:
    """Refuse a rebuild commit over a snapshot other than the one pinned before the source read."""
    snapshot = current.current_snapshot()
    now = snapshot.snapshot_id if snapshot is not None else None
    if now == batch.pinned:
        return
    if folder is not None:
        delete_path(batch.spark, folder)
    summary = snapshot.summary.additional_properties if snapshot and snapshot.summary else {}
    raise StaleRebuild(
        f"{batch.label}: {'.'.join(current.name())} moved from snapshot {batch.pinned} to {now}"
        f" (batch {summary.get('lake.batch-id')}) after the rebuild read the source"
    )


class WriteMode(ABC):
    """How a prepared batch becomes a target table's rows. One subclass per mode, registered.

    Class attributes declare what the rest of the platform needs to know about the mode's
    tables; :meth:`validate` refuses configs the mode cannot write, and :meth:`commit` writes
    one batch in one Iceberg transaction, retrying it itself when a concurrent writer wins.
    """

    name: ClassVar[str]
    # Partition columns of the mode's tables (the config may list these only).
    partitions: ClassVar[tuple[str, ...]] = ()
    # Columns the mode adds beyond the lineage every target table has.
    builtins: ClassVar[tuple[Builtin, ...]] = ()
    # Where the primary key is unique, in words (check descriptions and failures).
    pk_scope: ClassVar[str] = "the whole table"
    # The key is unique within each batch only (the check groups by batch).
    within_batches: ClassVar[bool] = False
    # SQL predicate selecting the rows the key is unique over (None: every row).
    pk_rows: ClassVar[str | None] = None
    # Whether the maintenance pass fails on duplicate keys over the whole table.
    maintenance_checks_uniqueness: ClassVar[bool] = True
    needs_primary_key: ClassVar[bool] = False
    # Whether the table is partitioned by bucket of the primary key (bucket_* settings apply).
    bucketed: ClassVar[bool] = False
    # Retiring a batch deletes its rows (True), or rebuilds the table from the source (False).
    retire_by_delete: ClassVar[bool] = False
    # How the mode writes, for the table's description (lineage): a clause after the mode name.
    lineage: ClassVar[str]

    def validate(self, table: TableConfig, where: str) -> None:
        """Raise ``ValueError`` (naming ``where``, the table) for a table this mode cannot write."""
        if self.needs_primary_key and not table.primary_key:
            raise ValueError(f"{where}: write_mode {self.name!r} needs a primary_key")
        validate_buckets(table, where, self.bucketed)
        bad = [p for p in table.partitions if p not in self.partitions]
        if bad:
            raise ValueError(
                f"{where}: write_mode {self.name!r} allows partitions {sorted(self.partitions)}, got {bad}"
            )

    def key_contract(self, table: TableConfig) -> str:
        """What the mode adds to the table's key contract (``lake.key-contract``)."""
        return ""

    def table_properties(self, table: TableConfig) -> dict[str, str]:
        """Table properties the mode records at creation."""
        return {}

    def stored(self, rows: Any, table: TableConfig) -> Any:
        """``rows`` with the mode's built-in columns, for the table's schema (Spark)."""
        return rows

    def check_target(self, batch: PrepareBatch) -> None:
        """Refuse a target table the mode cannot write ``batch`` into, before any file is written."""
        return None  # most modes write into any table that holds their key contract

    def rebuild_rows(self, rows: Any, batch_id: str) -> tuple[Any, str]:
        """The rows and batch id a rebuild commits, from every source batch's rows."""
        return rows, batch_id

    @abstractmethod
    def commit(self, batch: PrepareBatch) -> Committed:
        """Write ``batch`` in one transaction, retrying on conflicts; the committed table and figures."""


WRITE_MODES: dict[str, WriteMode] = {}
W = TypeVar("W", bound=type[WriteMode])


def register(cls: W) -> W:
    """Class decorator: make ``cls`` the write mode called ``cls.name``."""
    WRITE_MODES[cls.name] = cls()
    return cls


def validate_buckets(table: TableConfig, where: str, bucketed: bool) -> None:
    """Refuse bucket settings the table's mode cannot use, naming the table."""
    if table.bucket_by == "range":
        pk_types = [c.type for c in table.columns if c.name in table.primary_key]
        if not bucketed or len(table.primary_key) != 1 or pk_types[0] not in ("int", "bigint"):
            modes = sorted(name for name, mode in WRITE_MODES.items() if mode.bucketed)
            raise ValueError(
                f"{where}: bucket_by 'range' needs write_mode {' or '.join(map(repr, modes))} and a single"
                " int/bigint primary key"
            )
        if table.bucket_width is None:
            raise ValueError(f"{where}: bucket_by 'range' needs bucket_width (keys per bucket)")
    elif table.bucket_width is not None:
        raise ValueError(f"{where}: bucket_width only applies to bucket_by 'range'")


def write_mode_of(name: str) -> WriteMode:
    """The registered write mode ``name``; raises :class:`UnknownWriteMode` listing the known ones."""
    try:
        return WRITE_MODES[name]
    except KeyError:
        known = ", ".join(sorted(WRITE_MODES))
        raise UnknownWriteMode(
            f"unknown write_mode {name!r}; the modes are {known} (one file each in lake_glue/write_modes/)"
        ) from None
