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


def test_glue_jobs_install_the_locked_wheel_zip_with_no_index():
    args = _glue_job_arguments()
    assert args["--additional-python-modules"] == (
        "s3://${module.storage.artifacts_bucket}/${aws_s3_object.glue_wheels.key}"
    )
    assert args["--python-modules-installer-option"] == "--no-index"
    wheels = resources(load_dir(TF))[("aws_s3_object", "glue_wheels")]
    content_hash = '${filemd5("${path.module}/${var.glue_wheels_zip}")}'
    assert wheels["source_hash"] == content_hash
    assert content_hash[2:-1] in wheels["key"], "a new lock gives a new key: runs of an older deploy keep theirs"
    variables = {name: body for v in load_dir(TF)["variable"] for name, body in v.items()}
    assert variables["glue_wheels_zip"]["default"] == "../dist/glue-wheels.zip"


def test_glue_5_jobs_log_to_terraform_managed_groups_with_retention_and_kms():
    """Glue 5.0 writes <prefix>/output and <prefix>/error and ignores the continuous-logging arguments."""
    root = load_dir(TF)
    args = _glue_job_arguments()
    assert not {"--enable-continuous-cloudwatch-log", "--continuous-log-logGroup"} & set(args)
    assert args["--custom-logGroup-prefix"] == "${local.glue_log_group_prefix}"
    prefix = next(v["glue_log_group_prefix"] for v in root["locals"] if "glue_log_group_prefix" in v)
    assert prefix == "/aws-glue/jobs/${local.name_prefix}"
    groups = resources(root)[("aws_cloudwatch_log_group", "glue_jobs")]
    assert set(groups["for_each"]) == {"output", "error"}
    assert groups["name"] == prefix + "/${each.key}"
    assert groups["retention_in_days"] == "${var.log_retention_days}"
    assert groups["kms_key_id"] == "${module.kms.key_arn}"
    # The job role may write both groups.
    iam_locals = {k: v for block in root["locals"] for k, v in block.items()}
    assert iam_locals["glue_job_log_group_arn"].endswith(":log-group:/aws-glue/jobs/*")


def test_the_sns_policy_names_the_partition_it_runs_in():
    monitoring = load_dir(TF / "modules" / "monitoring")
    statements = policy_statements(resources(monitoring, "data"), "alerts")
    root = statements["AccountOwner"]["principals"][0]["identifiers"][0]
    assert root.startswith("arn:${data.aws_partition.current.partition}:iam::"), root
    assert ("aws_partition", "current") in resources(monitoring, "data")


def test_the_landing_queue_refuses_requests_without_tls():
    statements = policy_statements(_data(), "landing_events_queue")
    deny = statements["DenyInsecureTransport"]
    assert deny["effect"] == "Deny" and deny["actions"] == ["sqs:*"]
    assert deny["condition"][0]["variable"] == "aws:SecureTransport" and deny["condition"][0]["values"] == ["false"]


def test_every_bucket_removes_expired_delete_markers():
    bucket = resources(load_dir(TF / "modules" / "s3_bucket"))[("aws_s3_bucket_lifecycle_configuration", "this")]
    rules = [r for r in bucket["rule"] if isinstance(r, dict) and r.get("id") == "expired-delete-markers"]
    (rule,) = rules
    assert rule["expiration"][0]["expired_object_delete_marker"] is True
    assert rule["filter"] == [{}] and rule["status"] == "Enabled"


def test_eventbridge_forwards_only_batch_markers_to_the_landing_queue():
    rule = resources(load_dir(TF))[("aws_cloudwatch_event_rule", "landing_object_created")]
    assert "landing/*/_SUCCESS" in str(rule["event_pattern"])
    assert "prefix" not in str(rule["event_pattern"])


def test_the_partitions_table_has_no_index_the_code_never_queries():
    """A GSI with projection ALL copies the batch's file lists on every write; nothing queries one."""
    partitions = resources(load_dir(TF / "modules" / "dynamodb"))[("aws_dynamodb_table", "partitions")]
    assert "global_secondary_index" not in partitions
    code = "\n".join(p.read_text() for p in (TF.parent / "lake_platform").rglob("*.py"))
    assert "IndexName" not in code
