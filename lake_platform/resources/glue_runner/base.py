"""Glue job runner: how a generic Glue job is launched for one (config, table, batch).

Locally the Glue script runs as a subprocess on local Spark, with exactly the arguments Glue
would receive; in AWS the platform's Step Functions state machine runs the real Glue job
(see ``glue_runner/aws.py``). Both talk to the job through Dagster Pipes CLI arguments.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import dagster as dg


class GlueJobError(RuntimeError):
    """A Glue job run failed; the message names the job, the batch and the cause.

    ``reported_checks`` are the asset check results the job reported before it failed (e.g. the
    acceptance rules that refused the batch), for the asset to record with the failure.
    """

    reported_checks: list = []


def attach_reported_checks(exc: GlueJobError, session: dg.PipesSession) -> GlueJobError:
    """Keep the check results a failed job reported through Pipes on its error."""
    exc.reported_checks = [r for r in session.get_reported_results() if isinstance(r, dg.AssetCheckResult)]
    return exc


class GlueJobRunner(dg.ConfigurableResource):
    """Launches a Glue job run and returns the Pipes invocation with its reported results.

    The Iceberg catalog the jobs commit to is not the runner's: it is the ``lake_catalog``
    resource (:class:`~lake_platform.resources.catalog.LakeCatalog`), passed as the jobs'
    ``--catalog`` argument by the assets. ``database_prefix`` is the environment's catalog
    database prefix (``LAKE_GLUE_DATABASE_PREFIX``, the jobs' ``--database_prefix``): a config's
    database X is the catalog database prefix + X.
    """

    database_prefix: str = ""

    @abstractmethod
    def run(
        self,
        context: dg.AssetExecutionContext,
        *,
        job_name: str,
        arguments: dict[str, str],
        timeout_minutes: int,
        worker_type: str = "G.1X",
        number_of_workers: int = 2,
        extras: dict | None = None,
    ) -> dg.PipesClientCompletedInvocation:
        """Run ``job_name`` with Glue-style ``arguments`` and wait for it to finish.

        ``extras`` reach the job as Pipes extras (data too large for a job argument). A failed
        run raises ``GlueJobError`` carrying the check results the job reported.
        """


def script_for(job_name: str, scripts_dir: Path) -> Path:
    """The entry-point script of a Glue job: ``files-spark-ingest-default`` -> ``files_spark_ingest_default.py``."""
    path = scripts_dir / f"{job_name.replace('-', '_')}.py"
    if not path.is_file():
        raise GlueJobError(f"Glue job {job_name!r} has no script: {path} does not exist")
    return path
