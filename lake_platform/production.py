"""The Dagster instance that operators' commands use in AWS mode: production's, or a refusal.

With ``LAKE_ENV=aws``, ``lake process``, ``lake doctor``, ``lake redrive`` and ``lake retire``
decide from run history, which lives in the production instance (RDS PostgreSQL). A private
instance on the operator's disk has none, so ``lake process`` would re-run every registered
batch beside production. These commands therefore open the instance of ``DAGSTER_HOME`` only
when its run storage is PostgreSQL and it knows the lake (runs or the landing sensor's state),
and otherwise stop with a message that says what was found and how to reach production: the
production ``deploy/dagster.yaml`` (its storage reads the ``DAGSTER_PG_*`` variables) over an
SSM port-forward to RDS.

No run is executed on the operator's machine in AWS mode: production runs are Fargate tasks
launched by the daemon (``EcsRunLauncher``) from the deployed image. See :func:`refuse_in_process_run`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from lake_platform.settings import lake_env

PRODUCTION_INSTANCE_FILE = "deploy/dagster.yaml"
LANDING_SENSOR = "landing_sensor"
PG_SETTINGS = {
    "DAGSTER_PG_HOST": "127.0.0.1 (the local end of the SSM port-forward to RDS)",
    "DAGSTER_PG_PORT": "the forwarded local port, e.g. 5432",
    "DAGSTER_PG_DB": "the database name (Terraform output of the dagster module)",
    "DAGSTER_PG_USER": "the master user name (Terraform output of the dagster module)",
    "DAGSTER_PG_PASSWORD": "from the RDS-managed secret: aws secretsmanager get-secret-value ... | jq -r .password",
}


class ProductionInstanceError(RuntimeError):
    """``LAKE_ENV=aws`` and the Dagster instance is not production's; the message says what to do."""


def how_to_reach_production() -> str:
    """The steps that point ``DAGSTER_HOME`` at the production instance (part of every refusal)."""
    settings = "\n".join(f"    {name}: {why}" for name, why in PG_SETTINGS.items())
    return (
        "To use production: open an SSM port-forward to the RDS endpoint (README, 'Operating production"
        " from a laptop'), copy the production instance file "
        f"{PRODUCTION_INSTANCE_FILE} into an empty folder as dagster.yaml, export DAGSTER_HOME=<that folder>"
        " and set its PostgreSQL connection variables:\n" + settings
    )


def _refusal(found: str) -> ProductionInstanceError:
    return ProductionInstanceError(
        f"LAKE_ENV=aws: refused, {found}. Operators' commands decide from production's run history"
        f" and would act beside production on any other instance.\n{how_to_reach_production()}"
    )


def run_storage_found(home: Path) -> str | None:
    """What run storage ``home/dagster.yaml`` configures, when it is not PostgreSQL (else ``None``).

    Read from the file, not by opening the instance: opening a SQLite instance creates its
    database in the operator's folder.
    """
    from dagster._core.instance.config import dagster_instance_config

    config_file = home / "dagster.yaml"
    default = f"sqlite run storage at {home / 'history' / 'runs.db'}"
    if not config_file.is_file():
        return f"DAGSTER_HOME={home} has no dagster.yaml, so Dagster would use its default, {default}"
    config, _ = dagster_instance_config(str(home))
    storage, run_storage = config.get("storage") or {}, config.get("run_storage") or {}
    if "postgres" in storage or str(run_storage.get("module", "")).startswith("dagster_postgres"):
        return None
    if "sqlite" in storage:
        base = (storage["sqlite"] or {}).get("base_dir", home)
        return f"{config_file} configures sqlite run storage at {base}"
    if run_storage:
        return f"{config_file} configures run storage {run_storage.get('module')}.{run_storage.get('class')}"
    return f"{config_file} configures no storage, so Dagster would use its default, {default}"


def _env_references(node) -> list[str]:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return [str(node["env"])]
        return [name for value in node.values() for name in _env_references(value)]
    return []


def unset_storage_variables(home: Path) -> list[str]:
    """The environment variables the storage section of ``home/dagster.yaml`` reads that are not set.

    Only storage: the ECS launcher's and S3 logs' variables are read when a run is launched or a
    log is fetched, which these commands never do.
    """
    from dagster._core.instance.config import dagster_instance_config

    config, _ = dagster_instance_config(str(home))
    names = _env_references({k: config.get(k) for k in ("storage", "run_storage", "event_log_storage")})
    return sorted({name for name in names if name not in os.environ})


def production_instance() -> dg.DagsterInstance:
    """The instance of ``DAGSTER_HOME``, refused unless its run storage is PostgreSQL."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        raise _refusal("DAGSTER_HOME is not set (a private local instance with no history would be used)")
    path = Path(home).expanduser().resolve()
    if not path.is_dir():
        raise _refusal(f"DAGSTER_HOME={home} is not a folder")
    found = run_storage_found(path)
    if found is not None:
        raise _refusal(found)
    missing = unset_storage_variables(path)
    if missing:
        raise ProductionInstanceError(
            f"LAKE_ENV=aws: {path / 'dagster.yaml'} reads its PostgreSQL connection from these variables, which"
            f" are not set: {', '.join(missing)}.\n{how_to_reach_production()}"
        )
    try:
        return dg.DagsterInstance.from_config(str(path))
    except Exception as exc:  # noqa: BLE001 - any connection failure gets the same advice
        raise ProductionInstanceError(
            f"LAKE_ENV=aws: cannot open the production instance of {path / 'dagster.yaml'}: {root_cause(exc)}."
            " Is the SSM port-forward to RDS open, and are DAGSTER_PG_HOST/DAGSTER_PG_PORT its local end?\n"
            + how_to_reach_production()
        ) from exc


def root_cause(exc: BaseException) -> str:
    """The first line of the innermost cause (dagster-postgres wraps the driver's reason in "too many retries")."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def first_registered_batch(defs: dg.Definitions, registry) -> str | None:
    """``table/batch`` of one batch in the registry, over every table of the definitions, or ``None``."""
    for job in defs.jobs or []:
        table_id = (job.tags or {}).get("lake/table")
        for record in registry.list_batches(table_id) if table_id else []:
            return f"{table_id}/{record.batch_id}"
    return None


def has_lake_history(instance: dg.DagsterInstance) -> bool:
    """Whether the instance has seen this lake: any run, or any state of the landing sensor."""
    if instance.get_runs_count() > 0:
        return True
    return any(state.instigator_name == LANDING_SENSOR for state in instance.all_instigator_state())


def check_history(instance: dg.DagsterInstance, defs: dg.Definitions, registry) -> None:
    """Refuse an instance with no runs and no landing sensor state while the registry has batches.

    Such a database is new or the wrong one (another environment, a restore from nothing): what
    the commands would decide from it (every batch unfinished, no failures) is false. A new
    production database needs no override: the daemon's first landing sensor tick gives it history.
    """
    if has_lake_history(instance):
        return
    batch = first_registered_batch(defs, registry)
    if batch is None:
        return
    where = os.environ.get("DAGSTER_HOME", "?")
    raise ProductionInstanceError(
        f"LAKE_ENV=aws: refused, the Dagster instance of DAGSTER_HOME={where} has no runs and no"
        f" {LANDING_SENSOR} state, while the partition registry has batches (e.g. {batch}): it is a new or"
        " the wrong database (check DAGSTER_PG_HOST, DAGSTER_PG_DB and the environment). If production's"
        " database really is new, start the daemon: its first landing sensor tick records the state, and the"
        f" catch-up schedules run the registered batches.\n{how_to_reach_production()}"
    )


def operator_instance(defs: dg.Definitions, registry) -> dg.DagsterInstance:
    """The instance for an operator's command: the local one, or production's (checked) in AWS mode."""
    if lake_env() == "local":
        from lake_platform.instance import get_instance

        return get_instance()
    instance = production_instance()
    check_history(instance, defs, registry)
    return instance


def refuse_in_process_run(what: str) -> None:
    """Raise in AWS mode: production runs are Fargate tasks from the deployed image, never this process.

    Submitting to production's queue would need the deployed code server (a run's job snapshot
    and code origin come from it); a run built from this checkout could differ from the image
    that then runs it. The daemon's landing sensor and catch-up schedules run batches, and the
    UI launches one by hand.
    """
    if lake_env() == "aws":
        raise ProductionInstanceError(
            f"LAKE_ENV=aws: refused, {what} would execute a run in this process beside production."
            " In production the daemon runs batches (landing sensor, catch-up schedules) as Fargate tasks;"
            " to run one by hand, open the Dagster UI: Runs, select the failed run, Re-execute, or the job's"
            " Partitions tab, select the batch, Launch run."
        )
