"""CFN/seed.yaml (bootstrap stack) and buildspec.yml.

cfn-lint runs through its Python API (it is a dev dependency in uv.lock). The structural
tests pin what the challenge and buildspec.yml rely on.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.iac

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "CFN" / "seed.yaml"
BUILDSPEC = REPO / "buildspec.yml"


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode

    parsed, matches = decode(str(SEED))
    assert not matches, [str(m) for m in matches]
    return parsed


def test_cfn_lint_reports_no_errors_or_warnings_on_the_seed_template():
    from cfnlint.api import lint

    # The CLI default region plus the platform's default region (terraform var.aws_region).
    matches = lint(SEED.read_text(), regions=["us-east-1", "eu-west-1"])
    problems = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id[0] in ("E", "W")]
    assert problems == []


def test_seed_template_bootstraps_codebuild_state_bucket_lock_table_role_and_logs(template):
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    resources = template["Resources"]
    types = {name: r["Type"] for name, r in resources.items()}
    assert types["CodeBuildProject"] == "AWS::CodeBuild::Project"
    assert types["CodeBuildRole"] == "AWS::IAM::Role"
    assert types["BuildLogGroup"] == "AWS::Logs::LogGroup"
    assert types["StateBucket"] == "AWS::S3::Bucket"
    assert types["LockTable"] == "AWS::DynamoDB::Table"
    assert "CodeBuildURL" in template["Outputs"]
    for parameter in (
        "ProjectName",
        "Environment",
        "RepositoryUrl",
        "Branch",
        "TerraformVersion",
        "VpcId",
        "SubnetIds",
        "SecurityGroupIds",
    ):
        assert parameter in template["Parameters"], parameter


def test_state_bucket_is_versioned_encrypted_private_and_tls_only(template):
    resources = template["Resources"]
    bucket = resources["StateBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statement = resources["StateBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    lock = resources["LockTable"]["Properties"]
    assert lock["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert lock["BillingMode"] == "PAY_PER_REQUEST"


def test_codebuild_project_uses_its_role_log_group_optional_vpc_and_the_repo_buildspec(template):
    project = template["Resources"]["CodeBuildProject"]["Properties"]
    assert project["ServiceRole"] == {"Fn::GetAtt": ["CodeBuildRole", "Arn"]}
    assert project["Source"]["BuildSpec"] == "buildspec.yml"
    assert project["LogsConfig"]["CloudWatchLogs"]["GroupName"] == {"Ref": "BuildLogGroup"}
    assert project["VpcConfig"]["Fn::If"][0] == "UseVpc"
    assert project["VpcConfig"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}


def test_codebuild_role_has_no_star_action_and_scopes_writes_to_the_project(template):
    role = template["Resources"]["CodeBuildRole"]["Properties"]
    for policy in role["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "*" not in actions, statement["Sid"]
            if statement.get("Resource") == "*":
                star_sids = {"Identity", "ListKeys", "CreateTaggedKeys", "ManagePlatformKey", "DescribeCalls"}
                # Security configurations have no ARN; the boundary-removal deny covers every role.
                star_sids |= {"GlueSecurityConfiguration", "DenyBoundaryRemoval", "ResourcelessCalls"}
                # Dagster (issue 20): calls that take no ARN (policy_sentry), tag-conditioned where
                # the service supports tags on the request or the resource.
                star_sids |= {"DagsterTaskDefinitions", "DagsterServiceDiscoveryReads", "DagsterLoadBalancerReads"}
                tag_scoped = {
                    "DagsterRegisterTaskDefinitions",
                    "DagsterServiceDiscoveryCreate",
                    "DagsterServiceDiscovery",
                }
                if statement["Sid"] in tag_scoped:
                    assert statement["Condition"]["StringEquals"].keys() & {
                        "aws:RequestTag/project",
                        "aws:ResourceTag/project",
                    }, statement["Sid"]
                    continue
                assert statement["Sid"] in star_sids, statement["Sid"]
                if statement["Sid"] == "CreateTaggedKeys":
                    assert "aws:RequestTag/project" in statement["Condition"]["StringEquals"]
                if statement["Sid"] == "ManagePlatformKey":
                    assert "aws:ResourceTag/project" in statement["Condition"]["StringEquals"]


def test_buildspec_runs_tests_packages_glue_code_and_runs_terraform_with_the_seed_backend(template):
    spec = yaml.safe_load(BUILDSPEC.read_text())
    assert spec["version"] == 0.2
    commands = [c for phase in spec["phases"].values() for c in phase.get("commands", [])]
    text = "\n".join(commands)
    # The deploy build runs the fast checks only; CI ran the whole suite.
    assert "make test" not in text
    assert "make lint" in text and ".venv/bin/lake configs validate" in text
    assert "lake_glue" in text and "compileall" in text
    assert "cd terraform" in text
    for step in ("terraform init", "terraform validate", "terraform plan", "terraform apply"):
        assert step in text, step
    for key in ("bucket", "key", "region", "dynamodb_table"):
        assert f'-backend-config="{key}=' in text, key

    defined = {
        v["Name"]
        for v in template["Resources"]["CodeBuildProject"]["Properties"]["Environment"]["EnvironmentVariables"]
    }
    defined |= set(spec.get("env", {}).get("variables", {}))
    builtin = {"CODEBUILD_SRC_DIR", "CODEBUILD_BUILD_SUCCEEDING", "CODEBUILD_RESOLVED_SOURCE_VERSION", "AWS_REGION"}
    defined |= set(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=", text, re.M))
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", text))
    assert used <= defined | builtin, used - defined - builtin


def test_every_seed_environment_has_a_tfvars_file(template):
    default_env = template["Parameters"]["Environment"]["Default"]
    assert (REPO / "terraform" / "environments" / f"{default_env}.tfvars").is_file()
