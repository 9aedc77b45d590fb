"""The analyst policy: Athena in the analysts' workgroup, read on this environment's lake, nothing else."""

import pytest

from lake_platform_tests.iac.test_iac_seed_permissions import (
    ACCOUNT,
    GLUE,
    PREFIX,
    REGION,
    Call,
    allowed,
    policy_statements_to_lint,
)
from lake_platform_tests.iac.test_iac_terraform import TF, load_dir, resources

pytestmark = pytest.mark.iac

DATABASE_PREFIX = PREFIX.replace("-", "_") + "_"
SIDS = {
    "UseAnalystWorkgroup",
    "ReadPlatformCatalog",
    "ListLakeBuckets",
    "ReadLakeObjects",
    "WriteAthenaResults",
    "DecryptLakeAndCatalog",
}


def analyst_statements() -> list[dict]:
    documents = policy_statements_to_lint()
    return [
        doc["Statement"][0] for label, doc in documents.items() if label.startswith("terraform/terraform: analyst ")
    ]


def test_every_analyst_statement_is_parseable_so_parliament_lints_it():
    labels = {label for label in policy_statements_to_lint() if label.startswith("terraform/terraform: analyst ")}
    assert {label.rsplit(" ", 1)[-1] for label in labels} == SIDS


@pytest.mark.parametrize(
    "call",
    [
        Call("athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/sample"),
        Call("glue:GetTable", f"{GLUE}:table/{DATABASE_PREFIX}erp/orders"),
        Call("glue:GetDatabase", f"{GLUE}:database/{DATABASE_PREFIX}sales"),
        Call("glue:GetPartitions", f"{GLUE}:catalog"),
        Call("s3:GetObject", "arn:aws:s3:::sample/erp/orders/data/x.parquet"),
        Call("s3:PutObject", "arn:aws:s3:::sample/results/q.csv"),
        Call("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/sample"),
    ],
    ids=lambda c: c.action,
)
def test_analysts_may_query_the_environments_tables(call):
    assert allowed(analyst_statements(), call)


@pytest.mark.parametrize(
    "call",
    [
        Call("glue:GetTable", f"{GLUE}:table/lake_platform_prod_erp/orders"),  # the other environment
        Call("glue:GetTable", f"{GLUE}:table/erp/orders"),  # another team's unprefixed database
        Call("glue:GetDatabase", f"{GLUE}:database/default"),
        Call("glue:UpdateTable", f"{GLUE}:table/{DATABASE_PREFIX}erp/orders"),
        Call("glue:DeleteTable", f"{GLUE}:table/{DATABASE_PREFIX}erp/orders"),
        Call("s3:PutObject", "arn:aws:s3:::sample/erp/orders/data/x.parquet"),
        Call("s3:DeleteObject", "arn:aws:s3:::sample/results/q.csv"),
        Call("athena:StartQueryExecution", f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/primary"),
        Call("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/other"),
    ],
    ids=lambda c: f"{c.action} {c.resource.rsplit(':', 1)[-1]}",
)
def test_analysts_may_not_write_or_read_beyond_the_environment(call):
    assert not allowed(analyst_statements(), call)


def test_the_analyst_role_is_optional_bounded_and_the_policy_arn_is_an_output():
    root = load_dir(TF)
    role = resources(root)[("aws_iam_role", "analyst")]
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    assert "analyst_trusted_principals" in role["count"]
    outputs = {name for block in root["output"] for name in block}
    assert {"analyst_policy_arn", "analyst_role_arn"} <= outputs
