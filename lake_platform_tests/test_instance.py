"""The instance rules: one source for the local and the production dagster.yaml, valid for Dagster."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
import yaml

from lake_platform.instance import (
    LEGACY_LOCAL_YAML,
    instance_config,
    render_instance_yaml,
    shared_rules,
    write_local_instance,
)

REPO = Path(__file__).resolve().parents[1]
AWS_ENV = {
    "DAGSTER_PG_HOST": "db.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "pw",
    "DAGSTER_RUN_TASK_DEFINITION": "lake-dev-dagster-code",
    "DAGSTER_COMPUTE_LOGS_BUCKET": "lake-dev-logs",
    "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster/compute-logs",
    "DAGSTER_CODE_SERVER_HOST": "code.lake-dev.dagster.local",
}


def _validated(env: str, tmp_path: Path) -> dict:
    """The rendered file as Dagster's own loader validates it, with each class's config checked too."""
    from dagster._config import process_config
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes import class_from_code_pointer

    (tmp_path / "dagster.yaml").write_text(render_instance_yaml(env))  # type: ignore[arg-type]
    config, _ = dagster_instance_config(str(tmp_path))
    for key in ("run_launcher", "compute_logs", "run_coordinator"):
        if key in config:
            # Dagster aliases the documented dagster.core.* module paths to dagster._core.* when it loads them.
            module = config[key]["module"].replace("dagster.core.", "dagster._core.")
            cls = class_from_code_pointer(module, config[key]["class"])
            result = process_config(cls.config_type(), config[key]["config"])
            assert result.success, f"{env} {key}: {[e.message for e in result.errors or []]}"
    return dict(config)


@pytest.mark.parametrize("env", ["local", "aws"])
def test_both_instance_files_pass_dagsters_own_schema_with_no_unknown_key(env, tmp_path, monkeypatch):
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    config = _validated(env, tmp_path)
    assert config["run_retries"]["max_retries"] == 1


def test_an_unknown_key_would_fail_the_schema_check(tmp_path, monkeypatch):
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    bad = instance_config("local")
    bad["run_monitoring"]["start_timeout"] = 300  # a misspelt key
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def test_local_and_aws_share_the_pools_monitoring_retries_and_coordinator():
    local, aws = instance_config("local"), instance_config("aws")
    for key in ("telemetry", "concurrency", "run_monitoring", "run_retries", "run_coordinator"):
        assert local[key] == aws[key] == shared_rules()[key], key
    assert set(aws) - set(local) == {"storage", "run_launcher", "compute_logs"}
    assert local["concurrency"]["pools"] == {"default_limit": 1, "granularity": "run"}


def test_production_instance_uses_postgres_psycopg2_ecs_and_s3_from_the_environment():
    aws = instance_config("aws")
    db = aws["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert {k: v["env"] for k, v in db.items() if isinstance(v, dict)} == {
        "hostname": "DAGSTER_PG_HOST",
        "port": "DAGSTER_PG_PORT",
        "db_name": "DAGSTER_PG_DB",
        "username": "DAGSTER_PG_USER",
        "password": "DAGSTER_PG_PASSWORD",
    }
    launcher = aws["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_aws.ecs", "EcsRunLauncher")
    assert launcher["config"]["task_definition"] == {"env": "DAGSTER_RUN_TASK_DEFINITION"}
    assert launcher["config"]["container_name"] == "code"
    assert aws["compute_logs"]["class"] == "S3ComputeLogManager"


def test_checked_in_deploy_dagster_yaml_is_the_rendered_production_config():
    path = REPO / "deploy" / "dagster.yaml"
    wanted = render_instance_yaml("aws")
    if os.environ.get("LAKE_UPDATE_SNAPSHOTS") == "1":
        path.write_text(wanted)
    assert path.read_text() == wanted, (
        "deploy/dagster.yaml differs from lake_platform.instance: regenerate it with"
        " `.venv/bin/python -m lake_platform.instance aws > deploy/dagster.yaml`"
        " (or LAKE_UPDATE_SNAPSHOTS=1) and commit it with the change"
    )


def test_the_production_workspace_finds_the_code_server_from_the_environment(tmp_path, monkeypatch):
    from dagster._config import process_config
    from dagster._core.workspace.config_schema import WORKSPACE_CONFIG_SCHEMA

    monkeypatch.setenv("DAGSTER_CODE_SERVER_HOST", "code.lake-dev.dagster.local")
    raw = yaml.safe_load((REPO / "deploy" / "workspace.yaml").read_text())
    result = process_config(WORKSPACE_CONFIG_SCHEMA, raw)
    assert result.success, result.errors
    [entry] = result.value["load_from"]
    assert entry["grpc_server"] == {
        "host": "code.lake-dev.dagster.local",
        "port": 4000,
        "location_name": "lake_platform",
    }


def test_dagster_home_writes_the_local_rules_and_upgrades_its_own_older_file(tmp_path):
    config = write_local_instance(tmp_path)
    assert config.read_text() == render_instance_yaml("local")
    config.write_text(LEGACY_LOCAL_YAML)  # what dagster_home() wrote before the rules moved here
    write_local_instance(tmp_path)
    assert config.read_text() == render_instance_yaml("local")
    stamp = config.stat().st_mtime_ns
    write_local_instance(tmp_path)
    assert config.stat().st_mtime_ns == stamp, "an up-to-date file is not rewritten"
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1


def test_dagster_home_never_touches_a_dagster_yaml_the_user_wrote(tmp_path):
    mine = "telemetry:\n  enabled: true\n"
    (tmp_path / "dagster.yaml").write_text(mine)
    write_local_instance(tmp_path)
    assert (tmp_path / "dagster.yaml").read_text() == mine
