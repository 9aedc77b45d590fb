"""The production run launcher against moto ECS: a run launched through deploy/dagster.yaml's
``EcsRunLauncher`` (``instance_config("aws")["run_launcher"]``, unchanged) calls ``RunTask`` with the
code location's task definition, ``dagster api execute_run``, the daemon task's private subnets and
security groups, Fargate, and the run's tags; Dagster records the task on the run.

moto runs no container, so the test checks the request and what Dagster stores. The launcher's
``use_current_ecs_task_config`` reads the calling task from the ECS task metadata endpoint
(ECS_CONTAINER_METADATA_URI_V4): a loopback HTTP server plays it, answering with a "daemon" task
that was started in moto with the network configuration Terraform gives the services.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from lake_platform.instance import instance_config
from lake_platform.settings import AWS_SETTINGS

pytestmark = pytest.mark.aws

PREFIX = "lake-test"
CLUSTER = f"{PREFIX}-dagster"
CODE_FAMILY = f"{PREFIX}-dagster-code"
IMAGE = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{PREFIX}-dagster:0123456789ab"


def serve_task_metadata(cluster: str, task_arn: str) -> tuple[ThreadingHTTPServer, str]:
    """A loopback stand-in for the ECS task metadata endpoint v4 of the calling (daemon) task."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = {"Cluster": cluster, "TaskARN": task_arn} if self.path.endswith("/task") else {"Name": "daemon"}
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v4/daemon"


@pytest.fixture
def ecs_platform(aws, monkeypatch) -> Iterator[dict[str, str]]:
    """The Terraform shapes in moto: a private subnet and the tasks' security group, the cluster,
    the code location's task definition (container ``code``) and a running daemon task."""
    ec2 = boto3.client("ec2")
    ecs = boto3.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    # As the platform's VPC (Cloud Map and the interface endpoints need DNS hostnames); moto's
    # awsvpc RunTask also fails without it.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{PREFIX}-dagster-tasks", Description="Dagster tasks", VpcId=vpc)
    cluster = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    roles = {
        "taskRoleArn": f"arn:aws:iam::123456789012:role/{PREFIX}-dagster-task",
        "executionRoleArn": f"arn:aws:iam::123456789012:role/{PREFIX}-dagster-execution",
    }
    for family, container in ((CODE_FAMILY, "code"), (f"{PREFIX}-dagster-daemon", "daemon")):
        ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="512",
            memory="1024",
            # Container-level cpu/memory only because moto's RunTask sums them (Fargate needs neither).
            containerDefinitions=[{"name": container, "image": IMAGE, "essential": True, "cpu": 512, "memory": 1024}],
            **roles,
        )
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group["GroupId"]]}}
    daemon = ecs.run_task(
        cluster=CLUSTER, taskDefinition=f"{PREFIX}-dagster-daemon", launchType="FARGATE", networkConfiguration=network
    )["tasks"][0]["taskArn"]
    metadata, uri = serve_task_metadata(cluster, daemon)
    # The container environment Terraform sets (common contract), with dummy AWS settings.
    for name in AWS_SETTINGS:
        monkeypatch.setenv(name, f"dummy-{name.lower()}")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("LAKE_GLUE_DATABASE_PREFIX", "lake_platform_test_")  # Glue names allow [a-z0-9_] only
    monkeypatch.setenv("LAKE_ENV", "aws")
    monkeypatch.setenv("DAGSTER_RUN_TASK_DEFINITION", CODE_FAMILY)
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", uri)
    try:
        yield {"cluster": cluster, "subnet": subnet, "group": group["GroupId"], "daemon": daemon}
    finally:
        metadata.shutdown()


def test_ecs_run_launcher_runs_each_run_as_a_fargate_task_of_the_code_task_definition(ecs_platform, tmp_path):
    import dagster as dg
    from dagster._core.test_utils import in_process_test_workspace, instance_for_test
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    from lake_platform.definitions import build_definitions

    ecs = boto3.client("ecs")
    code_definition = ecs.describe_task_definition(taskDefinition=CODE_FAMILY)["taskDefinition"]["taskDefinitionArn"]
    run_launcher = instance_config("aws")["run_launcher"]
    with instance_for_test(overrides={"run_launcher": run_launcher}, temp_dir=str(tmp_path)) as instance:
        launcher = instance.run_launcher
        requests: list[dict[str, Any]] = []

        def record(params: dict[str, Any], **_: Any) -> None:
            requests.append(json.loads(json.dumps(params)))

        launcher.ecs.meta.events.register("provide-client-params.ecs.RunTask", record)  # type: ignore[attr-defined]

        defs = build_definitions()
        job = next(j for j in defs.jobs or [] if "lake/table" in (j.tags or {}))
        table = job.tags["lake/table"]
        origin = LoadableTargetOrigin(module_name="lake_platform.definitions", working_directory=str(tmp_path))
        with in_process_test_workspace(instance, origin) as workspace:
            location = next(iter(workspace.get_code_location_entries().values())).code_location
            assert location is not None
            remote_job = location.get_repository("__repository__").get_full_job(job.name)
            run = instance.create_run_for_job(
                job_def=defs.resolve_job_def(job.name),
                remote_job_origin=remote_job.get_remote_origin(),
                job_code_origin=remote_job.get_python_origin(),
                tags={"lake/table": table, "lake/batch": "2026-12-05T00", "lake/secret_note": "not propagated"},
            )
            instance.launch_run(run.run_id, workspace)

    assert len(requests) == 1
    request = requests[0]
    assert request["taskDefinition"] == code_definition
    assert request["cluster"] == ecs_platform["cluster"]
    assert request["launchType"] == "FARGATE" and "capacityProviderStrategy" not in request
    assert request["networkConfiguration"] == {
        "awsvpcConfiguration": {
            "subnets": [ecs_platform["subnet"]],
            "securityGroups": [ecs_platform["group"]],
            "assignPublicIp": "DISABLED",
        }
    }
    (override,) = request["overrides"]["containerOverrides"]
    assert override["name"] == "code"
    assert override["command"][:3] == ["dagster", "api", "execute_run"]
    assert run.run_id in override["command"][3] and job.name in override["command"][3]
    tags = {tag["key"]: tag["value"] for tag in request["tags"]}
    assert tags["dagster/run_id"] == run.run_id
    assert tags["lake/table"] == table and tags["lake/batch"] == "2026-12-05T00"
    assert "lake/secret_note" not in tags, "only the allow-listed run tags reach ECS"

    # What Dagster records, and what ECS (moto) has.
    recorded = instance.get_run_by_id(run.run_id)
    assert recorded is not None
    task_arn = recorded.tags["ecs/task_arn"]
    assert recorded.tags["ecs/cluster"] == ecs_platform["cluster"]
    (task,) = ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"]
    assert task["taskDefinitionArn"] == code_definition
    assert task_arn != ecs_platform["daemon"]
    # Launched, not yet reported by the run worker (no container runs in moto).
    assert recorded.status == dg.DagsterRunStatus.STARTING
