"""Glue table optimizers: every config table, gated until the jobs created the tables, orphans kept past any job."""

import re

import pytest

from lake_glue.config import MAX_JOB_TIMEOUT_MINUTES
from lake_platform_tests.iac.test_iac_seed_permissions import policy_statements_to_lint
from lake_platform_tests.iac.test_iac_terraform import TF, load_dir, locals_of, named, resources

pytestmark = pytest.mark.iac


def test_orphan_retention_outlasts_the_longest_job_by_default_and_by_validation():
    variable = named(load_dir(TF)["variable"])["orphan_file_retention_days"]
    minimum = int(re.search(r"orphan_file_retention_days >= (\d+)", variable["validation"][0]["condition"]).group(1))
    assert variable["default"] >= minimum
    assert minimum * 24 * 60 > MAX_JOB_TIMEOUT_MINUTES


def test_optimizers_cover_every_config_table_in_the_environments_databases_only_when_enabled():
    root = load_dir(TF)
    local = locals_of(root)
    assert "c.table_config" in local["platform_tables"] and "local.glue_database_prefix" in local["platform_tables"]
    assert local["table_optimizers"].startswith("${var.enable_table_optimizers ?")
    assert set(re.findall(r'"(\w+)"', local["optimizer_types"])) == {"compaction", "retention", "orphan_file_deletion"}
    assert named(root["variable"])["enable_table_optimizers"]["default"] is False
    optimizer = resources(root)[("aws_glue_catalog_table_optimizer", "this")]
    assert optimizer["for_each"] == "${local.table_optimizers}"
    (configuration,) = optimizer["configuration"]
    assert configuration["role_arn"] == "${aws_iam_role.table_optimizer.arn}"
    orphans = configuration["dynamic"][1]["orphan_file_deletion_configuration"]["content"][0]
    assert orphans["iceberg_configuration"][0]["orphan_file_retention_period_in_days"] == (
        "${var.orphan_file_retention_days}"
    )


def test_the_optimizer_role_policy_is_linted_and_scoped_to_the_environments_tables():
    documents = {
        label: doc["Statement"][0]
        for label, doc in policy_statements_to_lint().items()
        if label.startswith("terraform/terraform: table_optimizer ")
    }
    assert {label.rsplit(" ", 1)[-1] for label in documents} >= {"CommitPlatformTables", "RewriteLakeFiles"}
    glue = next(st for label, st in documents.items() if label.endswith("CommitPlatformTables"))
    assert all(r.endswith(":catalog") or "lake_platform_dev_*" in r for r in glue["Resource"])
