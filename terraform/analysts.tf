# Analyst access: a managed policy for the people who query the lake with Athena, and an optional
# role that carries it. Read-only on the lake: the environment's catalog databases and tables,
# the source and target buckets, the analysts' workgroup (whose results go to its own prefix).
#
# Lake Formation posture: IAM only. The catalog databases are created with the default
# IAMAllowedPrincipals permission, so IAM policies alone decide access; this policy scopes it to
# the environment's databases (prefix <project>_<environment>_). Table- or column-level grants
# would need Lake Formation (hybrid access mode) and are not configured.
#
# Every ARN is written out (not taken from another resource's attribute) so that the IaC test
# can lint this document with parliament.

data "aws_iam_policy_document" "analyst" {
  statement {
    sid = "UseAnalystWorkgroup"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetQueryResultsStream",
      "athena:StopQueryExecution",
      "athena:ListQueryExecutions",
      "athena:BatchGetQueryExecution",
      "athena:GetWorkGroup",
    ]
    resources = ["arn:${local.partition}:athena:${local.region}:${local.account_id}:workgroup/${module.athena.workgroup_name}"]
  }

  # The environment's databases only: the prefix is <project>_<environment>_, so neither another
  # environment's databases nor other teams' match.
  statement {
    sid = "ReadPlatformCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.glue_database_prefix}*",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.glue_database_prefix}*/*",
    ]
  }

  statement {
    sid     = "ListLakeBuckets"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      "arn:${local.partition}:s3:::${module.storage.source_bucket}",
      "arn:${local.partition}:s3:::${module.storage.target_bucket}",
      "arn:${local.partition}:s3:::${module.storage.athena_results_bucket}",
    ]
  }

  statement {
    sid     = "ReadLakeObjects"
    actions = ["s3:GetObject"]
    resources = [
      "arn:${local.partition}:s3:::${module.storage.source_bucket}/*",
      "arn:${local.partition}:s3:::${module.storage.target_bucket}/*",
    ]
  }

  # The workgroup enforces its result location s3://<results bucket>/results/.
  statement {
    sid       = "WriteAthenaResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["arn:${local.partition}:s3:::${module.storage.athena_results_bucket}/results/*"]
  }

  # The platform key: lake files, results written SSE-KMS and, when this stack owns the catalog
  # encryption, the catalog. Otherwise the owner's key is catalog_encryption_key_arn.
  statement {
    sid       = "DecryptLakeAndCatalog"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/${module.kms.key_id}"]
  }

  dynamic "statement" {
    for_each = var.catalog_encryption_key_arn == null ? [] : [var.catalog_encryption_key_arn]
    content {
      sid       = "DecryptCatalog"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "analyst" {
  name        = "${local.name_prefix}-analyst"
  description = "lake_platform analysts: query the environment's lake tables with Athena in the analysts workgroup (read-only)."
  policy      = data.aws_iam_policy_document.analyst.json
}

data "aws_iam_policy_document" "analyst_assume" {
  count = length(var.analyst_trusted_principals) == 0 ? 0 : 1

  statement {
    sid     = "AnalystsAssume"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.analyst_trusted_principals
    }
  }
}

resource "aws_iam_role" "analyst" {
  count                = length(var.analyst_trusted_principals) == 0 ? 0 : 1
  name                 = "${local.name_prefix}-analyst"
  permissions_boundary = var.permissions_boundary_arn
  description          = "Assumed by lake_platform analysts to query the lake with Athena."
  assume_role_policy   = data.aws_iam_policy_document.analyst_assume[0].json
}

resource "aws_iam_role_policy_attachment" "analyst" {
  count      = length(var.analyst_trusted_principals) == 0 ? 0 : 1
  role       = aws_iam_role.analyst[0].name
  policy_arn = aws_iam_policy.analyst.arn
}
