"""The lake's column lineage as a graph, for ``lake lineage`` and ``lake docs``.

Built from the validated configs alone (no AWS call, no Spark), with the same derivation texts
the Dagster UI and the Iceberg column docs show (``lake_glue.lineage``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from lake_glue import lineage as derivation
from lake_glue.config import IngestConfig, PrepareConfig
from lake_glue.layout import catalog_database
from lake_platform.settings import glue_database_prefix


@dataclass
class ColumnNode:
    """One column of one lake table (source or target layer)."""

    table: str  # <database>.<table>
    name: str
    type: str
    layer: str
    doc: str
    builtin: bool = False
    upstream: list[str] = field(default_factory=list)  # "<database>.<table>.<column>" or "raw:<folder>:<column>"
    downstream: list[str] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        """``<database>.<table>.<column>``."""
        return f"{self.table}.{self.name}"


@dataclass
class TableNode:
    """One lake table with its columns in the order they are queried."""

    name: str  # <database>.<table>
    layer: str
    description: str
    asset_key: str
    columns: list[ColumnNode] = field(default_factory=list)
    landing: str | None = None  # raw folder, for source tables
    reads: str | None = None  # source table, for target tables


def lineage_graph(configs: list[IngestConfig | PrepareConfig], prefix: str | None = None) -> dict[str, TableNode]:
    """Every source and target table of the configs, with column upstream and downstream links.

    Tables are named as the catalog names them: ``prefix`` (default: this environment's
    ``LAKE_GLUE_DATABASE_PREFIX``, empty locally) + the config's database.
    """
    prefix = glue_database_prefix() if prefix is None else prefix
    tables: dict[str, TableNode] = {}
    ingests = {c.config_name: c for c in configs if isinstance(c, IngestConfig)}
    for config in ingests.values():
        for table in config.table_config:
            name = f"{catalog_database(config.target.database, prefix)}.{table.table_name}"
            folder = derivation.landing_folder(config, table)
            node = TableNode(
                name,
                "source",
                derivation.source_table_doc(config, table),
                f"source/{config.config_name}/{table.table_name}",
                landing=folder,
            )
            for c in table.columns:
                node.columns.append(
                    ColumnNode(
                        name,
                        c.name,
                        c.type,
                        "source",
                        derivation.source_column_doc(config, table, c),
                        upstream=[f"raw:{folder}:{c.name}"],
                    )
                )
            node.columns += [
                ColumnNode(name, n, t, "source", d, builtin=True)
                for n, t, d in derivation.builtin_columns("source", table)
            ]
            tables[name] = node
    for prepare in configs:
        if not isinstance(prepare, PrepareConfig):
            continue
        ingest = ingests[prepare.source.config_name]
        for table in prepare.table_config:
            name = f"{catalog_database(prepare.target.database, prefix)}.{table.table_name}"
            source = f"{catalog_database(ingest.target.database, prefix)}.{table.source_table_name}"
            node = TableNode(
                name,
                "target",
                derivation.target_table_doc(prepare, table, ingest),
                f"target/{prepare.config_name}/{table.table_name}",
                reads=source,
            )
            for c in table.columns:
                column = ColumnNode(
                    name,
                    c.name,
                    c.type,
                    "target",
                    derivation.target_column_doc(prepare, table, c, ingest),
                    upstream=[f"{source}.{s}" for s in c.lineage_sources],
                )
                node.columns.append(column)
            node.columns += [
                ColumnNode(name, n, t, "target", d, builtin=True)
                for n, t, d in derivation.builtin_columns("target", table)
            ]
            tables[name] = node
    by_name = {c.qualified: c for t in tables.values() for c in t.columns}
    for column in by_name.values():
        for up in column.upstream:
            if up in by_name:
                by_name[up].downstream.append(column.qualified)
    return tables


def find(graph: dict[str, TableNode], name: str) -> tuple[TableNode, ColumnNode | None]:
    """The table (and column) named ``<database>.<table>[.<column>]``; ``KeyError`` names what exists."""
    parts = name.split(".")
    table = graph.get(".".join(parts[:2]))
    if table is None:
        raise KeyError(
            f"no lake table {'.'.join(parts[:2])!r}{_nearest('.'.join(parts[:2]), graph)};"
            f" tables: {', '.join(sorted(graph))}"
        )
    if len(parts) == 2:
        return table, None
    column = next((c for c in table.columns if c.name == parts[2]), None)
    if column is None or len(parts) > 3:
        names = [c.name for c in table.columns]
        raise KeyError(
            f"{table.name} has no column {'.'.join(parts[2:])!r}{_nearest(parts[2], names)};"
            f" columns: {', '.join(names)}"
        )
    return table, column


def _nearest(name: str, choices) -> str:
    near = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _chain(graph: dict[str, TableNode], column: ColumnNode, depth: int = 1) -> list[str]:
    """The upstream chain of a column, one level per layer; a source column's text names its raw column."""
    lines = []
    for up in column.upstream:
        if up.startswith("raw:"):
            continue
        _, parent = find(graph, up)
        if parent is None:
            raise KeyError(f"lineage graph names {up!r} upstream of {column.qualified} but has no such column")
        lines.append(f"{'  ' * depth}← {parent.qualified} ({parent.type}, {parent.layer} layer): {parent.doc}")
        lines += _chain(graph, parent, depth + 1)
    return lines


def describe(graph: dict[str, TableNode], name: str) -> list[str]:
    """The lines ``lake lineage`` prints for a table or a column."""
    table, column = find(graph, name)
    if column is not None:
        lines = [f"{column.qualified} ({column.type}, {table.layer} layer, asset {table.asset_key})", f"  {column.doc}"]
        lines += _chain(graph, column)
        lines.append("  downstream: " + (", ".join(column.downstream) or "none"))
        return lines
    lines = [f"{table.name} ({table.layer} layer, asset {table.asset_key})"]
    if table.description:
        lines.append(f"  {table.description}")
    lines.append(f"  reads: {table.reads or 's3://<raw bucket>/' + (table.landing or '')}")
    readers = sorted({d.rsplit(".", 1)[0] for c in table.columns for d in c.downstream})
    lines.append("  read by: " + (", ".join(readers) or "none"))
    for c in table.columns:
        mark = " [built-in]" if c.builtin else ""
        lines.append(f"  {c.name} ({c.type}){mark}: {c.doc}")
    return lines
