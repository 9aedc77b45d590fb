"""What Dagster knows of one job's runs, per batch: in flight, failed, succeeded.

The catch-up schedules, ``lake process`` and ``lake doctor`` decide from the same facts, so they
read them the same way: by job name (one job per ingest table), whoever launched the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import dagster as dg

PARTITION_TAG = "dagster/partition"


@dataclass
class RunHistory:
    """Runs of one job grouped by batch (partition key)."""

    in_flight: dict[str, list] = field(default_factory=dict)
    failed_at: dict[str, list[float]] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)

    def failures(self, batch_id: str) -> int:
        """How many runs of the batch failed."""
        return len(self.failed_at.get(batch_id, []))


def run_history(instance: dg.DagsterInstance, job_name: str) -> RunHistory:
    """Queued, starting or running runs (their records), failed runs (end times, oldest first), successful batches."""
    from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

    def records(statuses):
        return instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, statuses=statuses))

    history = RunHistory()
    for record in records(NOT_FINISHED_STATUSES):
        history.in_flight.setdefault(record.dagster_run.tags.get(PARTITION_TAG), []).append(record)
    failed = records([dg.DagsterRunStatus.FAILURE])
    for record in awaiting_retry(instance, failed):
        # Dagster's run retries will launch this run again: counting it as in flight keeps the
        # catch-up schedule from starting a second run of the batch beside the retry.
        history.in_flight.setdefault(record.dagster_run.tags.get(PARTITION_TAG), []).append(record)
    for record in failed:
        ended = record.end_time or (record.update_timestamp.timestamp() if record.update_timestamp else 0.0)
        history.failed_at.setdefault(record.dagster_run.tags.get(PARTITION_TAG), []).append(ended)
    for times in history.failed_at.values():
        times.sort()
    history.succeeded = {r.dagster_run.tags.get(PARTITION_TAG) for r in records([dg.DagsterRunStatus.SUCCESS])}
    return history


def awaiting_retry(instance: dg.DagsterInstance, failed: list) -> list:
    """Failed run records that Dagster's run retries marked for a retry not yet launched."""
    from dagster._core.storage.tags import PARENT_RUN_ID_TAG, WILL_RETRY_TAG

    pending = [r for r in failed if r.dagster_run.tags.get(WILL_RETRY_TAG) == "true"]
    if not pending:
        return []
    ids = [r.dagster_run.run_id for r in pending]
    retried = {
        r.dagster_run.tags.get(PARENT_RUN_ID_TAG)
        for r in instance.get_run_records(filters=dg.RunsFilter(tags={PARENT_RUN_ID_TAG: ids}))
    }
    return [r for r in pending if r.dagster_run.run_id not in retried]


def error_text(error) -> str:
    """The message of a step's error (a ``SerializableErrorInfo``), at the Glue job's own error if chained.

    A failed Glue step's exception wraps the job's ``GlueJobError``; that one carries the
    job's reason and the tail of its log, which is what a person needs.
    """
    while error.cause is not None and "GlueJobError" not in error.cls_name:
        error = error.cause
    return error.message.strip()


def step_failures(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Step key -> error message, for every step that failed in the run."""
    failures: dict[str, str] = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None:
            continue
        data = event.step_failure_data
        failures[event.step_key or "?"] = error_text(data.error) if data and data.error else entry.message
    return failures


def run_failure_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    """Why a run failed: its first step failure, else the run failure's own message."""
    failures = step_failures(instance, run_id)
    if failures:
        step, message = next(iter(failures.items()))
        return f"step {step}: {message}"
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        error = getattr(data, "error", None)
        return error_text(error) if error else (entry.message or "run failed")
    return "run failed"


_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Conflict|Failure)): (.+)$")


def one_line(error: str | None) -> str:
    """The reason a run failed, in one line: the job's own exception message and where its log is.

    A failed run's error carries the tail of the job's log (the JVM's chatter included); a
    person scanning ``lake process`` output needs the last exception and the log's path.
    """
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    reason = next((m.group(2) for line in reversed(lines) if (m := _EXCEPTION_LINE.match(line))), None)
    log = re.search(r"full log: ([^)\s]+)", error or "")
    return (reason or (lines[0] if lines else "run failed"))[:500] + (f" (log: {log.group(1)})" if log else "")
