"""What Dagster knows of one job's runs, per batch: in flight, failed, succeeded.

The catch-up schedules, ``lake process`` and ``lake doctor`` decide from the same facts, so they
read them the same way: by job name (one job per ingest table), whoever launched the run.
"""

from __future__ import annotations

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
    """Queued or running runs (their records), failed runs (end times, oldest first), successful batches."""
    from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES

    def records(statuses):
        return instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, statuses=statuses))

    history = RunHistory()
    for record in records(IN_PROGRESS_RUN_STATUSES):
        history.in_flight.setdefault(record.dagster_run.tags.get(PARTITION_TAG), []).append(record)
    for record in records([dg.DagsterRunStatus.FAILURE]):
        ended = record.end_time or (record.update_timestamp.timestamp() if record.update_timestamp else 0.0)
        history.failed_at.setdefault(record.dagster_run.tags.get(PARTITION_TAG), []).append(ended)
    for times in history.failed_at.values():
        times.sort()
    history.succeeded = {r.dagster_run.tags.get(PARTITION_TAG) for r in records([dg.DagsterRunStatus.SUCCESS])}
    return history
