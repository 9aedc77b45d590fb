"""IaC cross-checks of the runtime fixes of issue 21 (items 8, 10, 11, 12)."""

from __future__ import annotations

import pytest

from lake_platform_tests.iac.test_iac_terraform import TF, load_dir, policy_statements, resources

pytestmark = pytest.mark.iac


def _data() -> dict:
    return resources(load_dir(TF), "data")


def test_the_dagster_role_lists_the_raw_bucket_without_a_prefix_condition():
    """With an s3:prefix condition S3 answers HeadObject on a missing marker with 403, not 404."""
    statements = policy_statements(_data(), "dagster")
    raw_lists = [
        s for s in statements.values() if "s3:ListBucket" in s["actions"] and "${local.raw_arn}" in s["resources"]
    ]
    assert raw_lists, "the Dagster role must list the raw bucket"
    assert all(not s.get("condition") for s in raw_lists), raw_lists


def _glue_job_arguments() -> dict:
    args = resources(load_dir(TF))[("aws_glue_job", "this")]["default_arguments"]
    return {k.strip('"'): v for k, v in args.items()}


def test_glue_jobs_start_no_spark_metastore_client():
    """The jobs read and write files and commit with pyiceberg; Spark's catalog would create `default`."""
    assert "--enable-glue-datacatalog" not in _glue_job_arguments()
    code = "\n".join(p.read_text() for p in (TF.parent / "glue_scripts").rglob("*.py"))
    for spark_catalog_use in ("spark.sql(", "spark.table(", "saveAsTable", "enableHiveSupport", "spark.catalog"):
        assert spark_catalog_use not in code, spark_catalog_use
    assert "CatalogClientStartup" not in policy_statements(_data(), "glue_job")
