"""IaC cross-checks of terraform/modules/dagster (issue 20): what each Dagster container gets,
who may reach the database and the UI, and that exactly one daemon ever runs.

No Terraform binary runs here, so the HCL is read with python-hcl2 (helpers of
test_iac_terraform.py); ``container_definitions`` is a ``jsonencode(...)`` expression, which is
read by bracket matching rather than by evaluating it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from lake_platform.settings import AWS_SETTINGS
from lake_platform_tests.iac.test_iac_terraform import MODULES, TF, load_dir, locals_of, named, passes, resources

pytestmark = pytest.mark.iac

DAGSTER = MODULES / "dagster"
# The shared contract of issue 20 (notes/common.md): plain environment of every container.
CONTRACT_ENV = {
    "DAGSTER_HOME",
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_DB",
    "DAGSTER_PG_USER",
    "DAGSTER_COMPUTE_LOGS_BUCKET",
    "DAGSTER_COMPUTE_LOGS_PREFIX",
    "DAGSTER_RUN_TASK_DEFINITION",
    "DAGSTER_CODE_SERVER_HOST",
    "LAKE_ENV",
}
SERVICES = {"webserver", "daemon", "code"}


def _module() -> dict[str, list[Any]]:
    return load_dir(DAGSTER)


def _closing(text: str, start: int) -> int:
    """Index just past the bracket that closes the one at ``start``."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = []
    for i in range(start, len(text)):
        ch = text[i]
        if ch in pairs:
            stack.append(pairs[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
            if not stack:
                return i + 1
    raise AssertionError(f"unbalanced brackets in {text[start:start + 80]!r}")


def top_level_items(obj: str) -> dict[str, str]:
    """``{a = x, b = [..], ...}`` -> {"a": "x", "b": "[..]"}: the first level of an HCL object literal."""
    assert obj.startswith("{") and obj.endswith("}"), obj[:80]
    items: dict[str, str] = {}
    pos, body = 0, obj[1:-1]
    key = re.compile(r"\s*,?\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*")
    while pos < len(body.rstrip()):
        match = key.match(body, pos)
        assert match, f"cannot read {body[pos:pos + 80]!r}"
        value_start = match.end()
        depth, i = 0, value_start
        while i < len(body):
            ch = body[i]
            if ch in "{[(":
                i = _closing(body, i)
                continue
            if ch == '"':
                i = body.index('"', i + 1) + 1
                continue
            if ch == "," and depth == 0:
                break
            i += 1
        items[match.group(1)] = body[value_start:i].strip()
        pos = i
    return items


def container_definition() -> dict[str, str]:
    """The one container of every task definition, as {field: HCL expression}."""
    body = resources(_module())[("aws_ecs_task_definition", "dagster")]
    text = body["container_definitions"]
    assert text.startswith("${jsonencode([{") and text.endswith("}])}"), text[:80]
    inner = text[len("${jsonencode([") : -len("])}")]
    assert inner.startswith("{") and _closing(inner, 0) == len(inner), "exactly one container per task definition"
    return top_level_items(inner)


def container_environment_names() -> set[str]:
    """Names the module sets itself (the merge's object literal) plus the root's lake_env keys."""
    expression = locals_of(_module())["container_environment"]
    match = re.fullmatch(r"\$\{merge\(var\.lake_environment, (\{.*\})\)\}", expression, re.S)
    assert match, expression[:80]
    own = set(top_level_items(match.group(1)))
    root_call = named(load_dir(TF)["module"])["dagster"]
    assert root_call["lake_environment"] == "${local.lake_env}"
    return own | set(locals_of(load_dir(TF))["lake_env"])


def test_every_container_gets_every_aws_setting_and_the_dagster_contract_variables():
    assert resources(_module())[("aws_ecs_task_definition", "dagster")]["for_each"] == "${local.services}"
    assert locals_of(_module())["services"] == '${toset(["webserver", "daemon", "code"])}'
    container = container_definition()
    assert container["name"] == "each.key"
    assert "local.container_environment" in container["environment"]
    assert "container_secrets" not in container["environment"]
    missing = (set(AWS_SETTINGS) | CONTRACT_ENV) - container_environment_names()
    assert missing == set(), f"modules/dagster containers lack {sorted(missing)}"


def test_database_password_reaches_containers_only_as_an_ecs_secret_from_the_rds_managed_secret():
    assert "DAGSTER_PG_PASSWORD" not in container_environment_names()
    assert locals_of(_module())["container_secrets"] == {
        "DAGSTER_PG_PASSWORD": "${aws_db_instance.dagster.master_user_secret[0].secret_arn}:password::"
    }
    container = container_definition()
    assert "local.container_secrets" in container["secrets"] and "valueFrom" in container["secrets"]
    db = resources(_module())[("aws_db_instance", "dagster")]
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == "${var.kms_key_arn}"
    assert "password" not in db
    # Neither the module nor the root outputs anything that holds the password itself.
    for directory in (DAGSTER, TF):
        for name, output in named(load_dir(directory)["output"]).items():
            assert "PASSWORD" not in str(output["value"]).upper(), f"{directory.name}: output {name}"
    # The execution role reads exactly that secret.
    statements = {
        s["sid"]: s for s in resources(_module(), "data")[("aws_iam_policy_document", "execution")]["statement"]
    }
    assert statements["ReadDatabaseSecret"]["resources"] == [
        "${aws_db_instance.dagster.master_user_secret[0].secret_arn}"
    ]


def test_every_task_runs_as_the_task_role_that_carries_the_platform_dagster_policy():
    module = _module()
    td = resources(module)[("aws_ecs_task_definition", "dagster")]
    assert td["task_role_arn"] == "${aws_iam_role.task.arn}"
    attachment = resources(module)[("aws_iam_role_policy_attachment", "task_dagster")]
    assert attachment == {"role": "${aws_iam_role.task.name}", "policy_arn": "${var.dagster_policy_arn}"}
    assert named(load_dir(TF)["module"])["dagster"]["dagster_policy_arn"] == "${aws_iam_policy.dagster.arn}"
    root = resources(load_dir(TF))
    assert root[("aws_iam_policy", "dagster")]["policy"] == "${data.aws_iam_policy_document.dagster.json}"


def test_run_launcher_may_pass_exactly_the_task_and_execution_roles_and_run_only_the_code_family():
    data = resources(_module(), "data")[("aws_iam_policy_document", "run_launcher")]
    statements = {s["sid"]: s for s in data["statement"]}
    passing = statements["PassTheTaskRoles"]
    assert passing["actions"] == ["iam:PassRole"]
    assert passing["resources"] == ["${aws_iam_role.task.arn}", "${aws_iam_role.execution.arn}"]
    assert passing["condition"] == [
        {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}
    ]
    run = statements["RunTasksFromTheCodeTaskDefinition"]
    assert run["resources"] == [
        "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.code_family}:*"
    ]
    assert run["condition"][0]["variable"] == "ecs:cluster"
    assert statements["TagRunsAtLaunch"]["condition"][0] == {
        "test": "StringEquals",
        "variable": "ecs:CreateAction",
        "values": ["RunTask"],
    }
    # Runs use the code server's task definition (the launcher's DAGSTER_RUN_TASK_DEFINITION).
    assert locals_of(_module())["code_family"] == "${var.name_prefix}-dagster-code"


def test_database_is_private_and_admits_only_the_dagster_tasks_security_group():
    module = resources(_module())
    db = module[("aws_db_instance", "dagster")]
    assert db["publicly_accessible"] is False
    assert db["vpc_security_group_ids"] == ["${aws_security_group.database.id}"]
    assert db["storage_encrypted"] is True and db["kms_key_id"] == "${var.kms_key_arn}"
    assert db["deletion_protection"] == "${var.deletion_protection}"
    assert db["backup_retention_period"] == "${var.db_backup_retention_days}"
    assert not passes(DAGSTER, "db_backup_retention_days", 6)
    into_db = [
        body
        for (rtype, _), body in module.items()
        if rtype == "aws_vpc_security_group_ingress_rule"
        and body["security_group_id"] == "${aws_security_group.database.id}"
    ]
    assert into_db == [
        {
            "security_group_id": "${aws_security_group.database.id}",
            "description": "PostgreSQL from the Dagster tasks",
            "referenced_security_group_id": "${aws_security_group.tasks.id}",
            "ip_protocol": "tcp",
            "from_port": 5432,
            "to_port": 5432,
        }
    ]
    parameters = {p["name"]: p["value"] for p in module[("aws_db_parameter_group", "dagster")]["parameter"]}
    assert parameters["rds.force_ssl"] == "1"


UI = {"public": False, "certificate_arn": None, "allowed_cidrs": [], "oidc": None, "cognito": None}
CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
OIDC = {"issuer": "https://idp", "client_id": "c"} | {
    f"{e}_endpoint": "https://idp/x" for e in ("authorization", "token", "user_info")
}


@pytest.mark.parametrize(
    "ui,ok",
    [
        (UI, True),
        (dict(UI, allowed_cidrs=["10.0.0.0/8"]), True),
        (dict(UI, public=True), False),
        (dict(UI, public=True, certificate_arn=CERT), False),
        (dict(UI, public=True, oidc=OIDC), False),
        (dict(UI, public=True, certificate_arn=CERT, oidc=OIDC), True),
        (dict(UI, allowed_cidrs=["0.0.0.0/0"]), False),
    ],
)
def test_ui_is_public_only_with_a_certificate_and_an_authenticate_action(ui, ok):
    assert passes(DAGSTER, "ui", ui) is ok
    root = dict(ui)
    if root["allowed_cidrs"] == ["0.0.0.0/0"]:
        return  # the root's variable leaves the CIDR check to the module
    assert passes(TF, "dagster_ui", root) is ok


def test_load_balancer_is_internal_unless_public_and_public_traffic_meets_the_authenticate_action_first():
    module = resources(_module())
    lb = module[("aws_lb", "ui")]
    assert lb["internal"] == "${!var.ui.public}"
    assert lb["drop_invalid_header_fields"] is True
    assert named(load_dir(DAGSTER)["variable"])["ui"]["default"]["public"] is False
    listener = module[("aws_lb_listener", "ui")]
    forward = [a for a in listener["default_action"] if a.get("type") == "forward"]
    assert forward and forward[0]["order"] == 2
    auth_types = {d["default_action"]["content"][0]["type"] for d in listener["dynamic"]}
    assert auth_types == {"authenticate-oidc", "authenticate-cognito"}
    assert all(d["default_action"]["content"][0]["order"] == 1 for d in listener["dynamic"])
    ingress = module[("aws_vpc_security_group_ingress_rule", "alb_from_clients")]
    assert ingress["for_each"] == '${toset(var.ui.public ? ["0.0.0.0/0"] : var.ui.allowed_cidrs)}'
    health = module[("aws_lb_target_group", "webserver")]["health_check"][0]
    assert health["path"] == "/server_info"


def test_daemon_service_can_never_run_two_tasks():
    module = resources(_module())
    daemon = module[("aws_ecs_service", "daemon")]
    assert daemon["desired_count"] == 1
    assert daemon["deployment_minimum_healthy_percent"] == 0
    assert daemon["deployment_maximum_percent"] == 100
    # Nothing scales it.
    assert not [k for k in module if k[0] in ("aws_appautoscaling_target", "aws_appautoscaling_policy")]
    alarm = module[("aws_cloudwatch_metric_alarm", "daemon_not_running")]
    assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"]) == (
        "ECS/ContainerInsights",
        "RunningTaskCount",
        1,
    )
    assert alarm["alarm_actions"] == ["${var.alerts_topic_arn}"]


def test_services_run_the_contract_commands_from_one_immutable_image():
    commands = locals_of(_module())["commands"]
    assert (
        commands["code"][:3] == ["dagster", "code-server", "start"] and "lake_platform.definitions" in commands["code"]
    )
    assert commands["webserver"][0] == "dagster-webserver" and "3000" in commands["webserver"]
    assert commands["daemon"][:2] == ["dagster-daemon", "run"]
    assert set(commands) == SERVICES
    repo = resources(_module())[("aws_ecr_repository", "dagster")]
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"][0]["scan_on_push"] is True
    assert repo["encryption_configuration"][0]["encryption_type"] == "KMS"
    assert not passes(TF, "dagster_image_tag", "latest")


def test_dagster_is_on_by_default_and_refuses_to_plan_without_a_vpc():
    variables = named(load_dir(TF)["variable"])
    assert variables["enable_dagster"]["default"] is True
    assert named(load_dir(TF)["module"])["dagster"]["count"] == "${var.enable_dagster ? 1 : 0}"
    assert not passes(DAGSTER, "vpc_id", None)
    assert not passes(DAGSTER, "private_subnet_ids", ["subnet-0123abcd"])
    assert passes(DAGSTER, "private_subnet_ids", ["subnet-0123abcd", "subnet-0123abce"])


def test_compute_logs_go_to_one_expiring_prefix_of_the_artifacts_bucket_that_the_task_role_alone_may_write():
    root = named(load_dir(TF)["module"])
    assert (
        root["dagster"]["compute_logs_prefix"]
        == root["storage"]["compute_logs_prefix"]
        == "${local.compute_logs_prefix}"
    )
    assert root["dagster"]["compute_logs_bucket"] == "${module.storage.artifacts_bucket}"
    storage = (MODULES / "storage" / "main.tf").read_text()
    assert "(var.compute_logs_prefix) = var.compute_logs_expiration_days" in storage
    data = resources(_module(), "data")[("aws_iam_policy_document", "run_launcher")]
    statements = {s["sid"]: s for s in data["statement"]}
    assert statements["ReadWriteComputeLogs"]["resources"] == [
        "${var.compute_logs_bucket_arn}/${var.compute_logs_prefix}*"
    ]
    assert statements["ListComputeLogs"]["condition"][0]["values"] == ["${var.compute_logs_prefix}*"]
