# Managed maintenance in AWS: the Glue Data Catalog table optimizers (compaction, snapshot
# retention, orphan file deletion) on every table the configs declare, run by AWS, not by the
# Dagster worker. `lake maintain` stays the local path (and the lake_maintenance job keeps
# checking primary keys in both).
#
# The Iceberg tables are created by the Glue jobs at their first commit, not by Terraform, and an
# optimizer can only be created on an existing table. So the optimizers are off until
# enable_table_optimizers = true, which is applied after the first batch of every table has
# committed (a table added to the configs later needs its first batch before the next apply).
#
# A compaction racing a batch commit: both are Iceberg commits on the same metadata pointer, so
# one of them loses. A losing batch commit re-reads the table and retries (lake_glue
# retry_on_conflict, bounded); its rows are neither lost nor doubled. A losing compaction is
# dropped by the optimizer and retried on its next run.

locals {
  optimizer_types = toset(["compaction", "retention", "orphan_file_deletion"])

  # "<catalog database>.<table>" => what the optimizer names, for every table of every config.
  platform_tables = merge([
    for c in values(local.configs) : {
      for t in c.table_config : "${local.glue_database_prefix}${c.target.database}.${t.table_name}" => {
        database = "${local.glue_database_prefix}${c.target.database}"
        table    = t.table_name
      }
    }
  ]...)

  table_optimizers = var.enable_table_optimizers ? {
    for pair in setproduct(keys(local.platform_tables), local.optimizer_types) : "${pair[0]}:${pair[1]}" => merge(
      local.platform_tables[pair[0]], { type = pair[1] }
    )
  } : {}
}

data "aws_iam_policy_document" "table_optimizer_assume" {
  statement {
    sid     = "GlueOptimizerAssume"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "table_optimizer" {
  name                 = "${local.name_prefix}-table-optimizer"
  permissions_boundary = var.permissions_boundary_arn
  description          = "Runs the Glue Data Catalog table optimizers (compaction, snapshot retention, orphan deletion) on the lake_platform tables."
  assume_role_policy   = data.aws_iam_policy_document.table_optimizer_assume.json
}

data "aws_iam_policy_document" "table_optimizer" {
  statement {
    sid     = "ListLakeBuckets"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      "arn:${local.partition}:s3:::${module.storage.source_bucket}",
      "arn:${local.partition}:s3:::${module.storage.target_bucket}",
    ]
  }

  # Compaction writes new files; retention and orphan deletion delete unreferenced ones.
  statement {
    sid     = "RewriteLakeFiles"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "arn:${local.partition}:s3:::${module.storage.source_bucket}/*",
      "arn:${local.partition}:s3:::${module.storage.target_bucket}/*",
    ]
  }

  statement {
    sid     = "CommitPlatformTables"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable"]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.glue_database_prefix}*",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.glue_database_prefix}*/*",
    ]
  }

  statement {
    sid       = "UsePlatformKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/${module.kms.key_id}"]
  }

  # The optimizers write their run logs under these fixed groups.
  statement {
    sid     = "OptimizerLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/iceberg-compaction/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/iceberg-retention/*",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/iceberg-orphan-file-deletion/*",
    ]
  }
}

resource "aws_iam_role_policy" "table_optimizer" {
  name   = "lake-table-optimizer"
  role   = aws_iam_role.table_optimizer.id
  policy = data.aws_iam_policy_document.table_optimizer.json
}

resource "aws_glue_catalog_table_optimizer" "this" {
  for_each = local.table_optimizers

  catalog_id    = local.account_id
  database_name = each.value.database
  table_name    = each.value.table
  type          = each.value.type

  configuration {
    enabled  = true
    role_arn = aws_iam_role.table_optimizer.arn

    dynamic "retention_configuration" {
      for_each = each.value.type == "retention" ? [1] : []
      content {
        iceberg_configuration {
          snapshot_retention_period_in_days = var.snapshot_retention_days
          number_of_snapshots_to_retain     = 1
          clean_expired_files               = true
        }
      }
    }

    dynamic "orphan_file_deletion_configuration" {
      for_each = each.value.type == "orphan_file_deletion" ? [1] : []
      content {
        iceberg_configuration {
          orphan_file_retention_period_in_days = var.orphan_file_retention_days
        }
      }
    }
  }
}
