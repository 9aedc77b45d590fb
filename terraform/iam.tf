# Least-privilege IAM for the platform (the Step Functions role lives in modules/orchestration):
#   - the Glue job role,
#   - the policy for the Dagster deployment (and a separate configs-writer policy),
#   - the statements both need (read the configs, use the platform key), shared through
#     source_policy_documents,
# Every statement is scoped to the platform's own ARNs; statements that need Resource "*"
# say why.

locals {
  region  = var.aws_region
  kms_arn = module.kms.key_arn

  raw_arn       = module.storage.raw_bucket_arn
  source_arn    = module.storage.source_bucket_arn
  target_arn    = module.storage.target_bucket_arn
  artifacts_arn = module.storage.artifacts_bucket_arn
  athena_arn    = module.storage.athena_results_bucket_arn

  glue_catalog_arn = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  glue_database_arns = [
    for db in keys(local.catalog_databases) : "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${db}"
  ]
  glue_table_arns = [
    for db in keys(local.catalog_databases) : "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${db}/*"
  ]
  glue_job_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/jobs/*"

  # The catalog, the platform's databases and their tables; the log groups and their streams.
  glue_catalog_resource_arns = concat([local.glue_catalog_arn], local.glue_database_arns, local.glue_table_arns)
  glue_job_log_arns          = [local.glue_job_log_group_arn, "${local.glue_job_log_group_arn}:*"]
}

# Shared by the Glue job role and the Dagster deployment: read the configs, use the platform key.
data "aws_iam_policy_document" "configs_and_key" {
  statement {
    sid       = "ReadConfigs"
    actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable"]
    resources = [module.dynamodb.configs_table_arn]
  }

  statement {
    sid       = "UsePlatformKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [local.kms_arn]
  }
}

# Glue job role
data "aws_iam_policy_document" "glue_assume" {
  statement {
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

resource "aws_iam_role" "glue_job" {
  name                 = "${local.name_prefix}-glue-job"
  permissions_boundary = var.permissions_boundary_arn
  description          = "Runs the lake_platform Glue jobs: read raw, write source/target, read configs."
  assume_role_policy   = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue_job" {
  source_policy_documents = [data.aws_iam_policy_document.configs_and_key.json]

  statement {
    sid       = "ListLakeBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.raw_arn, local.source_arn, local.target_arn, local.artifacts_arn]
  }

  statement {
    sid       = "ReadRawLanding"
    actions   = ["s3:GetObject"]
    resources = ["${local.raw_arn}/landing/*"]
  }

  statement {
    sid = "WriteSourceAndTarget"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${local.source_arn}/*", "${local.target_arn}/*"]
  }

  statement {
    sid       = "ReadScriptsAndPackages"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifacts_arn}/glue/scripts/*", "${local.artifacts_arn}/glue/packages/*"]
  }

  statement {
    sid       = "PipesAndTempDir"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.artifacts_arn}/${local.pipes_prefix}*", "${local.artifacts_arn}/${local.glue_tmp_prefix}*"]
  }

  statement {
    sid = "CatalogTablesOfPlatformDatabases"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:DeleteTable",
    ]
    resources = local.glue_catalog_resource_arns
  }

  statement {
    sid       = "JobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = local.glue_job_log_arns
  }

  # CloudWatch PutMetricData has no resource-level permissions; the namespace condition limits
  # it to Glue's own job metrics.
  statement {
    sid       = "JobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_vpc && var.jdbc_secret_arn != null ? [var.jdbc_secret_arn] : []
    content {
      sid       = "ReadJdbcSecret"
      actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [statement.value]
    }
  }

  # Glue creates its elastic network interfaces in the connection's subnet. The EC2 Describe*
  # calls have no resource-level permissions.
  dynamic "statement" {
    for_each = var.enable_vpc ? [1] : []
    content {
      sid = "DescribeVpcForGlueConnection"
      actions = [
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeRouteTables",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.enable_vpc ? [1] : []
    content {
      sid       = "ManageGlueNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags"]
      resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:*"]
      condition {
        test     = "StringEquals"
        variable = "ec2:Vpc"
        values   = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/${coalesce(var.vpc_id, "none")}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "glue_job" {
  name   = "lake-glue-job"
  role   = aws_iam_role.glue_job.id
  policy = data.aws_iam_policy_document.glue_job.json
}

# Dagster deployment
locals {
  state_machine_arn = module.orchestration.state_machine_arn
  # executions of a state machine: arn:aws:states:<region>:<acct>:execution:<name>:<id>
  state_machine_executions_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${module.orchestration.state_machine_name}:*"
  athena_workgroup_arn         = module.athena.workgroup_arn
}

data "aws_iam_policy_document" "dagster" {
  source_policy_documents = [data.aws_iam_policy_document.configs_and_key.json]

  statement {
    sid       = "StartGlueRunnerExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "WatchGlueRunnerExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution", "states:GetExecutionHistory"]
    resources = [local.state_machine_executions_arn]
  }

  statement {
    sid       = "DescribeGlueRunner"
    actions   = ["states:DescribeStateMachine", "states:ListExecutions"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid = "PartitionRegistry"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DescribeTable",
    ]
    resources = [module.dynamodb.partitions_table_arn, "${module.dynamodb.partitions_table_arn}/index/*"]
  }

  # Unconditioned: with an s3:prefix condition, HeadObject on a missing key (a batch's
  # _SUCCESS marker not landed yet) is answered 403 instead of 404. Key names of the raw bucket
  # are no secret from the role that reads its landing files.
  statement {
    sid       = "ListRawBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.raw_arn]
  }

  statement {
    sid       = "ConsumeLandingEvents"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.landing_events.arn]
  }

  statement {
    sid       = "PublishBatchAlerts"
    actions   = ["sns:Publish"]
    resources = [module.monitoring.alerts_topic_arn]
  }

  statement {
    sid       = "ReadLandingFiles"
    actions   = ["s3:GetObject"]
    resources = ["${local.raw_arn}/landing/*"]
  }

  statement {
    sid       = "ListPipesPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.artifacts_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.pipes_prefix}*"]
    }
  }

  statement {
    sid       = "PipesExchange"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.artifacts_arn}/${local.pipes_prefix}*"]
  }

  # Athena reads the lake with the caller's credentials.
  statement {
    sid       = "ListLakeForAthena"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.source_arn, local.target_arn, local.athena_arn]
  }

  statement {
    sid       = "ReadLakeForAthena"
    actions   = ["s3:GetObject"]
    resources = ["${local.source_arn}/*", "${local.target_arn}/*"]
  }

  # `lake maintain` / the lake_maintenance job: compaction writes files and commits, expiry and
  # orphan removal delete files no snapshot references. Commits swap the metadata pointer.
  statement {
    sid       = "MaintainIcebergFiles"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.source_arn}/*", "${local.target_arn}/*"]
  }

  statement {
    sid       = "CommitIcebergMaintenance"
    actions   = ["glue:UpdateTable"]
    resources = local.glue_catalog_resource_arns
  }

  statement {
    sid       = "AthenaResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${local.athena_arn}/*"]
  }

  statement {
    sid = "ReadCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetDatabases",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = local.glue_catalog_resource_arns
  }

  statement {
    sid = "QueryWithAthena"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
      "athena:GetWorkGroup",
    ]
    resources = [local.athena_workgroup_arn]
  }

  statement {
    sid       = "ReadGlueJobRuns"
    actions   = ["glue:GetJobRun", "glue:GetJobRuns"]
    resources = [for job in local.glue_job_names : "arn:${local.partition}:glue:${local.region}:${local.account_id}:job/${job}"]
  }

  statement {
    sid       = "ReadGlueJobLogs"
    actions   = ["logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = local.glue_job_log_arns
  }
}

resource "aws_iam_policy" "dagster" {
  name        = "${local.name_prefix}-dagster"
  description = "Dagster deployment of lake_platform: run the Glue runner, manage partitions, read configs, landing, catalog, Athena."
  policy      = data.aws_iam_policy_document.dagster.json
}

# Writing configs (`lake configs push`) is kept apart: normally Terraform writes the items.
data "aws_iam_policy_document" "configs_writer" {
  statement {
    sid       = "WriteConfigs"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
    resources = [module.dynamodb.configs_table_arn]
  }

  statement {
    sid       = "UsePlatformKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_arn]
  }
}

resource "aws_iam_policy" "configs_writer" {
  name        = "${local.name_prefix}-configs-writer"
  description = "Write lake_platform config items to the configs table (lake configs push)."
  policy      = data.aws_iam_policy_document.configs_writer.json
}

resource "aws_iam_role_policy_attachment" "dagster" {
  count      = var.dagster_role_name == null ? 0 : 1
  role       = var.dagster_role_name
  policy_arn = aws_iam_policy.dagster.arn
}

resource "aws_iam_role_policy_attachment" "dagster_configs_writer" {
  count      = var.dagster_role_name != null && var.dagster_can_push_configs ? 1 : 0
  role       = var.dagster_role_name
  policy_arn = aws_iam_policy.configs_writer.arn
}
