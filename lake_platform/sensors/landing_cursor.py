"""The landing sensor's cursor, typed: per table, where the forward scan and the look-back stand.

It is stored as JSON in Dagster's sensor cursor (and in the instance by ``lake process``). The
JSON is the one earlier versions wrote, so a daemon upgraded in place goes on from its cursor:
older cursors without ``pending_since`` (or any later field) still load, their pending batches
counted as first seen when the cursor is read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TableCursor:
    """Where the landing scan of one ingest table stands (see ``lake_platform.sensors.landing``)."""

    # The last landing key fully dealt with: the forward scan lists after it.
    after: str | None = None
    # Batches seen without their marker -> when each was first seen (seconds since the epoch).
    pending: dict[str, float] = field(default_factory=dict)
    # The newest batch id seen: the look-back window ends ``LOOK_BACK`` before it.
    newest: str | None = None
    # Where the look-back pass in progress stands (None: no pass in progress).
    back: str | None = None
    # When the last look-back pass ended.
    back_done_at: float | None = None
    # Folders that are not batch ids -> when each was last reported.
    bad: dict[str, float] = field(default_factory=dict)
    # Stragglers reported -> when, while their batch is inside the look-back window.
    strays: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], now: float) -> TableCursor:
        """A table's cursor from its JSON object; missing fields (older cursors) take their defaults."""
        since = data.get("pending_since") or {}
        back_done_at = data.get("back_done_at")
        return cls(
            after=data.get("after"),
            pending={b: float(since.get(b, now)) for b in data.get("pending") or []},
            newest=data.get("newest"),
            back=data.get("back"),
            back_done_at=None if back_done_at is None else float(back_done_at),
            bad={k: float(v) for k, v in (data.get("bad") or {}).items()},
            strays={k: float(v) for k, v in (data.get("strays") or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object :meth:`from_json` reads (and earlier versions wrote)."""
        return {
            "after": self.after,
            "pending": sorted(self.pending),
            "pending_since": dict(self.pending),
            "newest": self.newest,
            "back": self.back,
            "back_done_at": self.back_done_at,
            "bad": dict(self.bad),
            "strays": dict(self.strays),
        }


@dataclass
class LandingCursor:
    """The landing sensor's cursor: one :class:`TableCursor` per ingest table id."""

    tables: dict[str, TableCursor] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None, now: float | None = None) -> LandingCursor:
        """The cursor stored as ``text`` (none or empty: a first start); ValueError for a damaged one."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"landing sensor cursor is not JSON ({exc}): {text[:200]!r}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"landing sensor cursor is not a JSON object of tables: {text[:200]!r}")
        now = time.time() if now is None else now
        return cls({tid: TableCursor.from_json(state, now) for tid, state in data.items() if isinstance(state, dict)})

    def serialize(self) -> str:
        """The cursor as stored: JSON with sorted keys, so an unchanged cursor is the same text."""
        return json.dumps({tid: state.to_json() for tid, state in self.tables.items()}, sort_keys=True)

    def with_look_back_due(self) -> LandingCursor:
        """A copy in which every table's look-back pass is due at once (``lake process`` runs it each time)."""
        copy = LandingCursor.parse(self.serialize())
        for state in copy.tables.values():
            state.back_done_at = 0
        return copy
