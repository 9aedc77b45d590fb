"""Deploy as one version (issue 20): the seed's CodeBuild builds the Dagster image in privileged
mode, pushes it tagged with the commit (skipping an existing immutable tag), and applies
Terraform with that tag; the build role may push to exactly the Dagster repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
BUILDSPEC = REPO / "buildspec.yml"
PUSH_ACTIONS = {
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
}


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode

    parsed, matches = decode(str(REPO / "CFN" / "seed.yaml"))
    assert not matches, [str(m) for m in matches]
    return parsed


def buildspec_commands() -> list[str]:
    spec = yaml.safe_load(BUILDSPEC.read_text())
    return [c for phase in spec["phases"].values() for c in phase.get("commands", [])]


def index_of(commands: list[str], needle: str) -> int:
    return next(i for i, c in enumerate(commands) if needle in c)


def test_codebuild_project_runs_privileged_for_docker_build(template):
    project = template["Resources"]["CodeBuildProject"]
    assert project["Properties"]["Environment"]["PrivilegedMode"] is True
    skips = {s["id"] for s in project["Metadata"]["checkov"]["skip"]}
    assert skips == {"CKV_AWS_316"}


def test_buildspec_pushes_the_commit_tagged_image_before_terraform_applies_it():
    commands = buildspec_commands()
    text = "\n".join(commands)
    assert 'IMAGE_TAG="${CODEBUILD_RESOLVED_SOURCE_VERSION:0:12}"' in text
    assert 'IMAGE_REPO="${TF_VAR_project}-${TF_VAR_environment}-dagster"' in text
    push = index_of(commands, "docker push")
    plan = index_of(commands, "terraform plan")
    assert index_of(commands, "make lint") < push < plan
    assert '-var="dagster_image_tag=${IMAGE_TAG}"' in commands[plan]
    # Immutable tags: the same commit re-run skips the build and push when the tag exists.
    block = commands[push]
    assert block.index("aws ecr describe-images") < block.index("docker build") < block.index("docker push")
    assert 'imageTag="${IMAGE_TAG}"' in block
    # First deploy: the repository (Terraform's) exists before the push, created by a targeted apply.
    first = index_of(commands, "-target=")
    assert first < push
    assert "-target='module.dagster[0].aws_ecr_repository.dagster'" in commands[first]
    assert 'if [ "${AUTO_APPLY}" = "true" ]' in commands[first]


def test_build_role_may_push_only_to_the_dagster_repository(template):
    statements = [
        s
        for policy in template["Resources"]["CodeBuildRole"]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    ]
    push = [s for s in statements if PUSH_ACTIONS & set(s["Action"])]
    assert len(push) == 1 and PUSH_ACTIONS <= set(push[0]["Action"])
    repository = (
        "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/${ProjectName}-${Environment}-dagster"
    )
    assert push[0]["Resource"] == {"Fn::Sub": repository}
    login = [s for s in statements if "ecr:GetAuthorizationToken" in s["Action"]]
    assert len(login) == 1 and login[0]["Resource"] == "*"
