"""Environments side by side in one account, and where each environment's variables come from.

Terraform's precedence is: -var and -var-file on the command line (later wins) > *.auto.tfvars >
terraform.tfvars > TF_VAR_* environment variables > the variable's default. The seed's CodeBuild
project passes the names its IAM is scoped to (project, environment, permissions boundary) as
TF_VAR_*, so no tfvars file and no -var in buildspec.yml may set them, or they would silently win.

The names test renders every name that lives in an account-wide namespace from dev.tfvars and
prod.tfvars (the environment comes from the file's name, as TF_ENV selects it) by evaluating the
name expressions of the HCL, and requires the two sets to be disjoint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lake_platform_tests.iac.test_iac_terraform import load_dir, load_tf, module_dirs, named, resources

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "terraform"
ENVIRONMENTS = TF / "environments"
SEED = REPO / "CFN" / "seed.yaml"
BUILDSPEC = REPO / "buildspec.yml"
ACCOUNT = "123456789012"
SEED_VARIABLES = {"project", "environment", "permissions_boundary_arn"}

# Resource type -> attribute holding a name that is unique per account (and region).
ACCOUNT_WIDE_NAMES = {
    "aws_glue_job": "name",
    "aws_glue_catalog_database": "name",
    "aws_glue_security_configuration": "name",
    "aws_glue_connection": "name",
    "aws_iam_role": "name",
    "aws_iam_policy": "name",
    "aws_sqs_queue": "name",
    "aws_cloudwatch_event_rule": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_cloudwatch_log_group": "name",
    "aws_athena_workgroup": "name",
    "aws_dynamodb_table": "name",
    "aws_kms_alias": "name",
    "aws_sns_topic": "name",
    "aws_sfn_state_machine": "name",
    "aws_ecs_cluster": "name",
    "aws_ecs_task_definition": "family",
    "aws_ecr_repository": "name",
    "aws_db_instance": "identifier",
    "aws_db_subnet_group": "name",
    "aws_lb": "name",
    "aws_lb_target_group": "name",
    "aws_service_discovery_private_dns_namespace": "name",
}
# Named, but in a narrower namespace: a role's inline policy (per role), a security group (per VPC).
NOT_ACCOUNT_WIDE = {"aws_iam_role_policy", "aws_security_group", "aws_ecs_service", "aws_service_discovery_service"}
# Shared by both environments on purpose: none (catalog databases carry the environment's prefix).
KNOWN_SHARED: set[str] = set()


def seed_codebuild_variables() -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(SEED))
    assert not matches
    env = template["Resources"]["CodeBuildProject"]["Properties"]["Environment"]["EnvironmentVariables"]
    return {v["Name"]: v["Value"] for v in env}


def tfvars_files() -> list[Path]:
    return sorted(ENVIRONMENTS.glob("*.tfvars"))


# Variable sources and precedence
def test_dev_and_prod_tfvars_exist_and_prod_keeps_its_data_on_destroy():
    assert {p.stem for p in tfvars_files()} >= {"dev", "prod"}
    prod = load_tf(ENVIRONMENTS / "prod.tfvars")
    assert prod["deletion_protection"] is True and prod["force_destroy"] is False


def test_no_tfvars_file_sets_what_the_seed_passes_as_tf_var():
    auto = [p.name for p in TF.glob("*.auto.tfvars")] + [p.name for p in TF.glob("terraform.tfvars")]
    assert auto == [], "auto-loaded tfvars would also beat the seed's TF_VAR_*"
    for path in tfvars_files():
        overlap = SEED_VARIABLES & set(load_tf(path))
        assert not overlap, f"{path.relative_to(REPO)} sets {sorted(overlap)}; a -var-file beats TF_VAR_*"


def test_seed_passes_project_environment_and_boundary_as_tf_var_and_buildspec_does_not_override_them():
    variables = seed_codebuild_variables()
    assert variables["TF_VAR_project"] == {"Ref": "ProjectName"}
    assert variables["TF_VAR_environment"] == {"Ref": "Environment"}
    assert variables["TF_ENV"] == {"Ref": "Environment"}
    assert variables["TF_VAR_permissions_boundary_arn"] == {"Ref": "PermissionsBoundary"}
    commands = "\n".join(
        c for phase in yaml.safe_load(BUILDSPEC.read_text())["phases"].values() for c in phase.get("commands", [])
    )
    plan = next(c for c in commands.splitlines() if "terraform plan" in c)
    assert '-var-file="environments/${TF_ENV}.tfvars"' in plan
    overridden = {v for v in re.findall(r'-var[= ]"?([a-z0-9_]+)=', plan)} & SEED_VARIABLES
    assert not overridden, f"buildspec.yml plan sets {overridden} with -var, which beats TF_VAR_*"


# Names in account-wide namespaces
def _configs() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((REPO / "configs").glob("*.json"))]


def _for_each_keys(expression: Any) -> list[str]:
    if isinstance(expression, dict):
        return list(expression)
    if expression == "${local.glue_jobs}":
        return sorted({c["etl_job"] for c in _configs()})
    if expression == "${local.catalog_databases}":
        return sorted({"${local.glue_database_prefix}" + c["target"]["database"] for c in _configs()})
    if expression == "${local.services}":  # modules/dagster: one per ECS service
        return ["code", "daemon", "webserver"]
    raise AssertionError(f"teach test_iac_environments.py the for_each domain {expression!r}")


def _render(template: str, prefix: str, keys: list[str] | None) -> list[str]:
    """All values of a name expression for one environment (conditionals give both branches)."""
    text = template.replace("${local.glue_job_prefix}", f"{prefix}-")
    text = re.sub(r"\$\{(local|var)\.name_prefix\}", prefix, text)
    texts = [text]
    conditional = re.compile(r'\$\{[^}?]+\?\s*"([^"]*)"\s*:\s*"([^"]*)"\}')
    while any(conditional.search(t) for t in texts):
        texts = [conditional.sub(branch, t, count=1) for t in texts for branch in (r"\1", r"\2")]
    if keys is not None:
        texts = [t.replace("${each.key}", k) for t in texts for k in keys]
    database_prefix = prefix.replace("-", "_") + "_"
    return [t.replace("${local.glue_database_prefix}", database_prefix) for t in texts]


def account_wide_names(env: str, project: str = "lake-platform") -> dict[str, set[str]]:
    """Resource type -> the names the stack of ``env`` creates (S3 buckets included)."""
    prefix = f"{project}-{env}"
    names: dict[str, set[str]] = {}
    for directory in module_dirs():
        module = load_dir(directory)
        for (rtype, rname), body in resources(module).items():
            attribute = ACCOUNT_WIDE_NAMES.get(rtype)
            if attribute is None:
                assert rtype in NOT_ACCOUNT_WIDE or not (
                    {"name", "alarm_name"} & set(body)
                ), f"{directory.name}: {rtype}.{rname} has a name: add it to ACCOUNT_WIDE_NAMES or NOT_ACCOUNT_WIDE"
                continue
            keys = _for_each_keys(body["for_each"]) if "for_each" in body else None
            for name in _render(body[attribute], prefix, keys):
                assert "${" not in name, f"{directory.name}: {rtype}.{rname} name {name!r}: teach _render"
                names.setdefault(rtype, set()).add(name)
    storage = (TF / "modules" / "storage" / "main.tf").read_text()
    bucket_prefix = f"{prefix}-{ACCOUNT}"
    buckets = re.findall(r'(?:name|bucket_name)\s*=\s*"\$\{local\.bucket_prefix\}(-[a-z-]+)"', storage)
    assert buckets, "storage bucket names not found"
    names["aws_s3_bucket"] = {bucket_prefix + suffix for suffix in buckets}
    return names


def test_dev_and_prod_stacks_create_no_account_wide_name_in_common():
    dev, prod = account_wide_names("dev"), account_wide_names("prod")
    assert dev["aws_glue_job"] and dev["aws_sfn_state_machine"] and dev["aws_cloudwatch_metric_alarm"]
    collisions = {rtype: sorted(dev[rtype] & prod.get(rtype, set())) for rtype in dev if rtype not in KNOWN_SHARED}
    assert {k: v for k, v in collisions.items() if v} == {}
    # The exception is real, and is listed so that fixing it forces this test to be updated.
    assert all(dev[rtype] & prod[rtype] for rtype in KNOWN_SHARED)


def test_the_state_machine_runs_only_the_environments_own_jobs():
    orchestration = load_dir(TF / "modules" / "orchestration")
    arns = named(orchestration["locals"])["glue_job_arns"]
    assert arns.startswith("${[for name in var.glue_job_names : "), arns
    assert named(load_dir(TF)["module"])["orchestration"]["glue_job_names"] == "${local.glue_job_names}"
    root_locals: dict[str, Any] = {}
    for block in load_dir(TF).get("locals", []):
        root_locals.update(block)
    assert root_locals["glue_job_names"].startswith("${[for job in sort(keys(local.glue_jobs)) : ")
    assert "${local.glue_job_prefix}${job}" in root_locals["glue_job_names"]
    assert root_locals["glue_job_prefix"] == "${local.name_prefix}-"


def test_catalog_encryption_is_managed_by_exactly_one_of_the_environments():
    declared = named(load_dir(TF)["variable"])
    body = resources(load_dir(TF))[("aws_glue_data_catalog_encryption_settings", "this")]
    assert body["count"] == "${var.environment == var.catalog_encryption_owner ? 1 : 0}"
    owners = []
    for path in tfvars_files():
        owner = load_tf(path).get("catalog_encryption_owner", declared["catalog_encryption_owner"]["default"])
        if owner == path.stem:
            owners.append(path.stem)
    assert owners == ["prod"]
