"""``lake docs``: one self-contained HTML page about every lake table, for readers without Dagster.

Each table gets its description, what it reads and what reads it, its columns (declared ones
first, then the platform's lineage and partition columns, marked) with the same derivation
text as the Dagster UI and the Glue catalog, and its row count and freshness from the table's
current Iceberg snapshot.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone

from lake_platform.lineage import TableNode


@dataclass(frozen=True)
class TableStats:
    """What the catalog says of a table now."""

    rows: int | None
    committed_at: str | None
    batch_id: str | None
    problem: str | None = None


def table_stats(catalog, graph: dict[str, TableNode]) -> dict[str, TableStats]:
    """Row count, last commit time and last batch of each table, from its current snapshot."""
    from lake_glue.tables import total_records

    stats = {}
    for name in graph:
        database, table_name = name.split(".", 1)
        try:
            table = catalog.load_table((database, table_name))
        except Exception as exc:  # noqa: BLE001 - a table not created yet is shown as such
            stats[name] = TableStats(None, None, None, f"not created yet ({type(exc).__name__})")
            continue
        snapshot = table.current_snapshot()
        if snapshot is None:
            stats[name] = TableStats(0, None, None)
            continue
        when = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        summary = snapshot.summary.additional_properties if snapshot.summary else {}
        stats[name] = TableStats(total_records(table), when, summary.get("lake.batch-id"))
    return stats


def render(graph: dict[str, TableNode], stats: dict[str, TableStats], generated_at: str) -> str:
    """The page as one HTML string (inline style, no scripts, no external resources)."""
    e = html.escape
    toc = "".join(
        f'<li><a href="#{e(n)}">{e(n)}</a> <small>{e(t.layer)}</small></li>' for n, t in sorted(graph.items())
    )
    sections = []
    for name, table in sorted(graph.items()):
        st = stats.get(name)
        if st is None or st.problem:
            freshness = e((st.problem if st else None) or "no catalog information")
        else:
            freshness = f"{st.rows:,} rows; last commit {e(st.committed_at or 'never')}"
            if st.batch_id:
                freshness += f" (batch {e(st.batch_id)})"
        reads = (
            f'<a href="#{e(table.reads)}">{e(table.reads)}</a>'
            if table.reads
            else f"landed files in <code>s3://&lt;raw bucket&gt;/{e(table.landing or '')}</code>"
        )
        readers = sorted({d.rsplit(".", 1)[0] for c in table.columns for d in c.downstream})
        read_by = ", ".join(f'<a href="#{e(r)}">{e(r)}</a>' for r in readers) or "none"
        rows = "".join(
            f"<tr{' class=builtin' if c.builtin else ''}><td><code>{e(c.name)}</code></td><td>{e(c.type)}</td>"
            f"<td>{'built-in' if c.builtin else 'declared'}</td><td>{e(c.doc)}</td></tr>"
            for c in table.columns
        )
        sections.append(
            f'<section id="{e(name)}"><h2>{e(name)}</h2>'
            f"<p>{e(table.description)}</p>"
            f"<p><b>Layer</b> {e(table.layer)} · <b>Dagster asset</b> <code>{e(table.asset_key)}</code>"
            f" · {freshness}</p>"
            f"<p><b>Reads</b> {reads} · <b>Read by</b> {read_by}</p>"
            f"<table><tr><th>column</th><th>type</th><th>kind</th><th>where it comes from</th></tr>{rows}</table>"
            "</section>"
        )
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>lake tables</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}"
        "tr.builtin{color:#666}code{background:#f4f4f4;padding:0 3px}section{margin-top:2.5em}"
        "</style></head><body><h1>Lake tables</h1>"
        f"<p>Generated {e(generated_at)} by <code>lake docs</code> from the configs and the table catalog."
        " Query tables as <code>&lt;database&gt;.&lt;table&gt;</code> (Athena in AWS, <code>lake query</code> locally);"
        " <code>lake lineage &lt;database.table.column&gt;</code> prints the same lineage.</p>"
        f"<ul>{toc}</ul>{''.join(sections)}</body></html>"
    )
