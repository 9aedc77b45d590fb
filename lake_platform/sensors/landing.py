"""The landing sensor: turns complete batches in the raw bucket into registry entries, dynamic
partitions and runs, with bounded work per tick.

How it scales: per table, the cursor keeps ``after`` (the last landing key fully dealt with)
and ``pending`` (batches seen without their ``_SUCCESS`` marker, with when each was first seen).
A pass lists only keys after ``after`` (``StartAfter`` in S3), at most ``max_keys`` per pass
shared between tables (a tick makes one pass, or several for up to ``catch_up_seconds`` while
the landing zone is ahead of the cursor), and re-checks each pending batch with one existence check on its marker
key. Because batch ids are UTC timestamps, ``after`` only moves forward through time, so the
landing prefix is never listed in full; a marker that arrives after later batches is found
through ``pending``. What the forward scan cannot see, a batch landing entirely below the
cursor (a late export), is found by the look-back: each tick also lists one page of the window
``LOOK_BACK`` behind the newest batch id, and registers complete batches the registry does not
know; a pass over the window starts every ``LOOK_BACK_INTERVAL_SECONDS`` and uses only what the
forward scan left of the tick's listing budget (``lake process`` starts a pass every time).
The cursor only ever passes batch ids: a folder that is not a batch id (``archive``, ``tmp``,
``2099-12-31``; letters sort after digits) is reported once an hour and skipped, and ``after``
stays on the last batch key before it, so batches landing later still sort after the cursor. A
page holding nothing but such folders is hopped past within the tick, so a large one never
stalls the scan.
The pending list is capped and expires; what it drops is reported.
A page holds whole batches only (the possibly cut-off last batch is left for the next tick),
except when one batch fills a page by itself: then it is listed in full before it is sealed,
and the rest of it on later pages (like files that land after a marker) is recognised as a
continuation of a batch already pending or complete, so it is never reported twice.
A batch is registered with a conditional write and requested with the run key
``<table_id>:<batch_id>``, so nothing is processed twice across ticks, races or restarts.
"""

import copy
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import dagster as dg

from lake_platform.batches import (
    LandedTable,
    Straggler,
    find_stragglers,
    landed_tables,
    register_batches,
    report_stragglers,
    run_requests_for,
    stragglers_of,
)
from lake_platform.layout import SUCCESS_MARKER, is_batch_id, landing_table_prefix
from lake_platform.resources import Alerts, ObjectStore, PartitionRegistry
from lake_platform.resources.object_store.base import ObjectInfo
from lake_platform.resources.partition_registry.base import BatchRecord
from lake_platform.sensors.landing_cursor import LandingCursor, TableCursor
from lake_platform.settings import sensor_interval_seconds
from lake_platform.table_assets import TableAssets

MAX_PENDING_CHECKS = 200
MAX_PENDING = 1000
PENDING_EXPIRY_SECONDS = 7 * 86400
BAD_NAME_REPORT_SECONDS = 3600
# How far behind the newest batch id the look-back re-lists for late batches, and how often.
LOOK_BACK = timedelta(days=7)
LOOK_BACK_INTERVAL_SECONDS = 600


@dataclass
class ScanResult:
    """Complete batches found per table, problems worth logging, and the new cursor."""

    complete: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cursor: LandingCursor = field(default_factory=LandingCursor)
    keys_listed: int = 0
    waiting: dict[str, list[str]] = field(default_factory=dict)
    late: dict[str, list[str]] = field(default_factory=dict)
    look_back_keys_listed: int = 0
    # True when a forward page was full: more landed keys wait beyond the cursor.
    behind: bool = False
    # Files found in sealed batches after sealing, each reported once (see lake_platform.operations).
    stragglers: list[Straggler] = field(default_factory=list)


def _group_by_batch(prefix: str, keys: list[str]) -> list[tuple[str, list[str]]]:
    groups: list[tuple[str, list[str]]] = []
    for key in keys:
        batch = key[len(prefix) :].split("/", 1)[0]
        if groups and groups[-1][0] == batch:
            groups[-1][1].append(key)
        else:
            groups.append((batch, [key]))
    return groups


def _registration_failed(result: ScanResult, table: LandedTable, failed: dict[str, str]) -> None:
    """Report batches whose registration failed; the caller keeps them pending for the next tick."""
    for batch_id, error in sorted(failed.items()):
        result.warnings.append(
            f"{table.table_id}/{batch_id}: could not be registered ({error[:500]}); tried again next tick,"
            " the table's other batches are registered"
        )


def _batch_time(batch_id: str) -> datetime:
    return datetime.strptime(batch_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def _report_bad_name(
    result: ScanResult, bad: dict, table: LandedTable, store: ObjectStore, prefix: str, name: str, now: float
) -> None:
    """Warn about a folder that is not a batch id, at most once per ``BAD_NAME_REPORT_SECONDS`` each."""
    if name in bad and now - bad[name] < BAD_NAME_REPORT_SECONDS:
        return
    bad[name] = now
    result.warnings.append(
        f"{table.table_id}: ignoring s3://{store.raw_bucket}/{prefix}{name}: folder name is"
        " not a batch id YYYYMMDDTHHMMSSZ (see the landing contract); batches landed beside it are"
        " still picked up"
    )


def _look_back(
    store: ObjectStore,
    registry: PartitionRegistry,
    table: LandedTable,
    state: TableCursor,
    result: ScanResult,
    complete: list[str],
    pending: dict[str, float],
    budget: int,
    now: float,
) -> None:
    """Re-list a window behind the cursor, a page per tick, for batches the forward scan cannot see.

    A batch whose files all land after the cursor passed its id (a late export, or one hidden
    behind a folder name that sorts after every batch id) is below the cursor forever. The
    window starts ``LOOK_BACK`` before the newest batch id seen and ends at the cursor; a pass over
    it lists one page per tick and registers complete batches the registry does not know.
    """
    prefix = landing_table_prefix(table.landing_prefix, table.table_name)
    after, newest = state.after, state.newest
    if not after or not newest or budget <= 0:
        return
    if state.back is None and now - (state.back_done_at or 0) < LOOK_BACK_INTERVAL_SECONDS:
        return
    window_start = prefix + (_batch_time(newest) - LOOK_BACK).strftime("%Y%m%dT%H%M%SZ")
    position = state.back or window_start
    keys = [o.key for o in store.list_objects(store.raw_bucket, prefix, start_after=position, max_keys=budget)]
    result.keys_listed += len(keys)
    result.look_back_keys_listed += len(keys)
    truncated = len(keys) >= budget
    keys = [k for k in keys if k <= after]
    truncated = truncated and len(keys) == budget
    groups = _group_by_batch(prefix, keys)
    if truncated and len(groups) > 1:
        groups = groups[:-1]
    found: list[tuple[str, list[ObjectInfo] | None]] = []
    for batch_id, batch_keys in groups:
        if not is_batch_id(batch_id) or batch_keys[0] == f"{prefix}{batch_id}":
            _report_bad_name(result, state.bad, table, store, prefix, batch_id, now)
            continue
        if batch_id in complete or batch_id in pending:
            continue
        names = {k.rsplit("/", 1)[-1] for k in batch_keys}
        record = registry.get(table.table_id, batch_id)
        if record is not None:
            _note_stragglers(store, registry, table, state, result, record, batch_keys, now)
        elif SUCCESS_MARKER in names:
            found.append((batch_id, None))
            complete.append(batch_id)
            result.late[table.table_id] = result.late.get(table.table_id, []) + [batch_id]
        else:
            pending[batch_id] = now
    failed = register_batches(store, registry, table, found)
    _registration_failed(result, table, failed)
    for batch_id in failed:
        complete.remove(batch_id)
        result.late[table.table_id].remove(batch_id)
        pending[batch_id] = now
    if truncated and groups:
        state.back = groups[-1][1][-1]
    else:
        state.back, state.back_done_at = None, now


def _note_stragglers(
    store: ObjectStore,
    registry: PartitionRegistry,
    table: LandedTable,
    state: TableCursor,
    result: ScanResult,
    record: BatchRecord,
    keys: list[str],
    now: float,
) -> None:
    """Add the listed ``keys`` of a registered batch that its seal lacks to the result, each once.

    ``state.strays`` remembers what was reported (key -> when) while the key's batch is
    inside the look-back window, so a straggler is reported once, not on every pass.
    """
    prefix = landing_table_prefix(table.landing_prefix, table.table_name)
    reported = state.strays
    candidates = [s for s in stragglers_of(record, prefix, keys, set()) if s.key not in reported]
    if not candidates:
        return
    # Files already copied into a reseal batch are dealt with (one registry read, only here).
    still = {s.key for s in find_stragglers(store, registry, table.table_id, prefix, [record.batch_id])}
    for straggler in candidates:
        reported[straggler.key] = now
        if straggler.key in still:
            result.stragglers.append(straggler)


def _prune_strays(state: TableCursor, prefix: str) -> dict[str, float]:
    """Forget reported stragglers whose batch fell out of the look-back window (never listed again)."""
    newest = state.newest
    if not newest:
        return dict(state.strays)
    oldest = (_batch_time(newest) - LOOK_BACK).strftime("%Y%m%dT%H%M%SZ")
    return {k: t for k, t in state.strays.items() if k[len(prefix) :].split("/", 1)[0] >= oldest}


def _marker_landed(store: ObjectStore, result: ScanResult, table: LandedTable, prefix: str, batch_id: str) -> bool:
    """Whether a pending batch's marker exists; a failing check is reported and leaves it pending.

    One batch whose check fails (a denied HeadObject, a throttle) must not fail the tick: the
    other batches and tables go on, and the batch still expires on its own clock.
    """
    key = f"{prefix}{batch_id}/{SUCCESS_MARKER}"
    try:
        return store.exists(store.raw_bucket, key)
    except Exception as exc:  # noqa: BLE001 - any store error: report it, keep the batch pending
        result.warnings.append(
            f"{table.table_id}/{batch_id}: could not check {store.uri(store.raw_bucket, key)}; still pending: {exc}"
        )
        return False


def _expire_pending(result: ScanResult, table: LandedTable, pending: dict[str, float], now: float) -> dict[str, float]:
    """Drop pending batches that waited too long, or past the cap (oldest first), and say so."""
    kept = {b: t for b, t in pending.items() if now - t < PENDING_EXPIRY_SECONDS}
    for batch_id in sorted(set(pending) - set(kept)):
        result.warnings.append(
            f"{table.table_id}/{batch_id}: no {SUCCESS_MARKER} after {PENDING_EXPIRY_SECONDS // 86400} days;"
            " no longer re-checked every tick (the look-back window and `lake doctor` still see it)"
        )
    if len(kept) > MAX_PENDING:
        dropped = sorted(kept, key=lambda b: (kept[b], b))[: len(kept) - MAX_PENDING]
        result.warnings.append(
            f"{table.table_id}: {len(kept)} batches wait for {SUCCESS_MARKER}, more than {MAX_PENDING};"
            f" no longer re-checking the oldest {len(dropped)}: {', '.join(dropped[:10])}"
        )
        kept = {b: t for b, t in kept.items() if b not in set(dropped)}
    return kept


def scan_landing(
    store: ObjectStore,
    registry: PartitionRegistry,
    tables: list[LandedTable],
    cursor: LandingCursor,
    max_keys: int = 2000,
    now: float | None = None,
    recheck_pending: bool = True,
) -> ScanResult:
    """One bounded pass over the landing prefixes; see the module docstring for the design.

    ``recheck_pending`` off skips the existence checks of pending batches: a tick that catches
    up makes several passes and re-checks them in the first only.
    """
    now = time.time() if now is None else now
    result = ScanResult()
    budget = max(50, max_keys // max(1, len(tables)))
    for table in tables:
        # A copy: the caller's cursor stays as it was (a tick that fails saves nothing).
        state = copy.deepcopy(cursor.tables.get(table.table_id)) or TableCursor()
        after = state.after
        pending = dict(state.pending)
        prefix = landing_table_prefix(table.landing_prefix, table.table_name)
        complete: list[str] = []

        # Complete batches of this pass, registered together before the cursor moves past them.
        found: list[tuple[str, list[ObjectInfo] | None]] = []
        still_pending = {}
        for i, batch_id in enumerate(pending):
            # A batch past its expiry is not checked again: it expires below, whatever its check would do.
            due = recheck_pending and i < MAX_PENDING_CHECKS and now - pending[batch_id] < PENDING_EXPIRY_SECONDS
            if due and _marker_landed(store, result, table, prefix, batch_id):
                found.append((batch_id, None))
                complete.append(batch_id)
            else:
                still_pending[batch_id] = pending[batch_id]
        # Rotate so that a long pending list is re-checked fairly across ticks.
        order = list(still_pending)
        pending = {b: still_pending[b] for b in order[MAX_PENDING_CHECKS:] + order[:MAX_PENDING_CHECKS]}

        start_after = after
        page, groups, truncated = _forward_page(store, table, state, result, prefix, after, budget, now)
        keys = list(page)
        # A batch that fills a whole page by itself may continue past it.
        cut_off = truncated and len(groups) == 1
        if truncated and len(groups) > 1:
            # The last batch may continue past the page; leave it for the next tick.
            groups = groups[:-1]
        for batch_id, batch_keys in groups:
            if not _is_batch_group(prefix, batch_id, batch_keys):
                # The cursor never passes an odd name by itself: batch ids landing later may sort
                # before it (letters sort after digits), and the forward scan must still see them.
                _report_bad_name(result, state.bad, table, store, prefix, batch_id, now)
                continue
            after = batch_keys[-1]
            # The rest of a batch whose first keys an earlier tick listed (a batch larger than a
            # page, or files landing after its marker): that tick already made it pending or
            # complete, so only a pending batch may complete here, and never twice.
            continued = bool(start_after) and str(start_after).startswith(f"{prefix}{batch_id}/")
            state.newest = max(state.newest or batch_id, batch_id)
            if continued and batch_id not in pending:
                # Keys after a batch an earlier tick completed: stragglers unless its seal holds them.
                record = registry.get(table.table_id, batch_id)
                if record is not None:
                    _note_stragglers(store, registry, table, state, result, record, batch_keys, now)
                continue
            names = {k.rsplit("/", 1)[-1] for k in batch_keys}
            if SUCCESS_MARKER in names:
                # A batch that is only partly on this page is listed in full to be sealed; every
                # other batch on the page is whole, so the page's entries are its file list.
                whole = not (cut_off or continued)
                found.append((batch_id, [page[k] for k in batch_keys] if whole else None))
                complete.append(batch_id)
                pending.pop(batch_id, None)
            elif batch_id not in pending:
                pending[batch_id] = now
        failed = register_batches(store, registry, table, found)
        _registration_failed(result, table, failed)
        for batch_id in failed:
            # Pending: the marker is re-checked next tick, which registers the batch again.
            complete.remove(batch_id)
            pending[batch_id] = now
        result.behind = result.behind or truncated
        state.after = after
        # The look-back gets what the forward scan left of this table's share of the tick.
        _look_back(store, registry, table, state, result, complete, pending, budget - len(keys), now)
        pending = _expire_pending(result, table, pending, now)
        result.complete[table.table_id] = sorted(set(complete))
        result.waiting[table.table_id] = sorted(pending)
        state.pending, state.strays = pending, _prune_strays(state, prefix)
        result.cursor.tables[table.table_id] = state
    return result


def _is_batch_group(prefix: str, batch_id: str, batch_keys: list[str]) -> bool:
    """Whether a listed group is a batch folder (not an odd folder name, not a loose file)."""
    return is_batch_id(batch_id) and batch_keys[0] != f"{prefix}{batch_id}"


# Hops past pages of odd folders per table and pass: bounds the listing a pass may add.
MAX_ODD_HOPS = 3


def _forward_page(
    store: ObjectStore,
    table: LandedTable,
    state: TableCursor,
    result: ScanResult,
    prefix: str,
    after: str | None,
    budget: int,
    now: float,
) -> tuple[dict[str, ObjectInfo], list[tuple[str, list[str]]], bool]:
    """The forward scan's page after ``after``: its entries by key, its batch groups, and whether it was full.

    A full page of nothing but odd folders (a large ``archive/`` the cursor may not pass) is
    reported and hopped past: the next listing starts after the last of those folders, so batch
    ids that sort after it are still reached. The cursor itself still stays before the odd
    folders unless a batch after them is found.
    """
    start = after
    for _ in range(MAX_ODD_HOPS + 1):
        page = {o.key: o for o in store.list_objects(store.raw_bucket, prefix, start_after=start, max_keys=budget)}
        result.keys_listed += len(page)
        groups = _group_by_batch(prefix, list(page))
        truncated = len(page) >= budget
        if not truncated or any(_is_batch_group(prefix, b, k) for b, k in groups):
            return page, groups, truncated
        for name, _keys in groups:
            _report_bad_name(result, state.bad, table, store, prefix, name, now)
        # Past every key of the last odd folder (and a loose file of that name): U+10FFFF sorts last.
        start = f"{prefix}{groups[-1][0]}/\U0010ffff"
    result.warnings.append(
        f"{table.table_id}: more than {MAX_ODD_HOPS} full pages of folders that are not batch ids after"
        f" {after or prefix}; batches sorting after them are found by the look-back (move those folders away)"
    )
    # Not "behind": another pass of this tick would only list the same odd folders again.
    return page, groups, False


def catch_up(
    store: ObjectStore,
    registry: PartitionRegistry,
    tables: list[LandedTable],
    cursor: LandingCursor,
    max_keys: int,
    seconds: float,
) -> ScanResult:
    """Bounded passes while the landing zone is ahead of the cursor and the tick has time left.

    A steady tick is one pass. After an outage or on a first start (thousands of landed
    batches), one pass per 30-second tick would take many minutes to catch up, so the tick
    keeps making passes (each bounded by ``max_keys``) until the forward scan is no longer
    behind or ``seconds`` are spent. A tick stopped in between (timeout, restart) has saved no
    cursor: the next one lists those pages again, and the conditional registrations and run
    keys make sure no batch is registered or started twice.
    """
    started = time.monotonic()
    total = scan_landing(store, registry, tables, cursor, max_keys)
    scan = total
    while scan.behind and time.monotonic() - started < seconds:
        scan = scan_landing(store, registry, tables, scan.cursor, max_keys, recheck_pending=False)
        for tid, done in scan.complete.items():
            total.complete[tid] = total.complete.get(tid, []) + done
        for tid, late in scan.late.items():
            total.late[tid] = total.late.get(tid, []) + late
        total.warnings += scan.warnings
        total.stragglers += scan.stragglers
        total.keys_listed += scan.keys_listed
        total.look_back_keys_listed += scan.look_back_keys_listed
        total.cursor, total.waiting, total.behind = scan.cursor, scan.waiting, scan.behind
    return total


def landing_sensor_def(name: str, table_assets: list[TableAssets], description: str):
    """The decorator both landing sensors share: every table's job, running by default, every 30 s.

    The interval is :func:`~lake_platform.settings.sensor_interval_seconds` (30 s unless set).
    """
    return dg.sensor(
        name=name,
        jobs=[t.job for t in table_assets],
        minimum_interval_seconds=sensor_interval_seconds(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )


def build_landing_sensor(
    table_assets: list[TableAssets], max_keys_per_tick: int = 2000, catch_up_seconds: float = 20.0
) -> dg.SensorDefinition:
    """The sensor over every ingest table built by the asset factory.

    ``max_keys_per_tick`` bounds one pass; a tick that is behind makes more passes for up to
    ``catch_up_seconds`` (well under Dagster's 60-second sensor evaluation timeout).
    """
    by_id = {t.table_id: t for t in table_assets}
    landed = landed_tables(table_assets)

    @landing_sensor_def(
        "landing_sensor", table_assets, "Registers complete landed batches and starts one run per new batch."
    )
    def landing_sensor(
        context: dg.SensorEvaluationContext,
        object_store: ObjectStore,
        partition_registry: PartitionRegistry,
        alerts: Alerts,
    ) -> dg.SensorResult:
        """Scan the landing prefixes (bounded), register complete batches and request their runs."""
        cursor = LandingCursor.parse(context.cursor)
        scan = catch_up(object_store, partition_registry, landed, cursor, max_keys_per_tick, catch_up_seconds)
        for warning in scan.warnings:
            context.log.warning(warning)
        report_stragglers(context.instance, alerts, by_id, scan.stragglers, context.log)
        run_requests, partition_requests = run_requests_for(context.instance, by_id, scan.complete)
        context.log.info(f"listed {scan.keys_listed} keys; {len(run_requests)} batches to run")
        for tid, late in scan.late.items():
            context.log.info(f"{tid}: found late batches below the cursor: {', '.join(late)}")
        waiting = [f"{tid}/{b}" for tid, batches in sorted(scan.waiting.items()) for b in batches]
        skip = None
        if not run_requests:
            skip = "no new complete batch" + (
                f"; waiting for {SUCCESS_MARKER}: {', '.join(waiting[:20])}" + (" ..." if len(waiting) > 20 else "")
                if waiting
                else ""
            )
        return dg.SensorResult(
            run_requests=run_requests,
            dynamic_partitions_requests=partition_requests,
            cursor=scan.cursor.serialize(),
            skip_reason=skip,
        )

    return landing_sensor
