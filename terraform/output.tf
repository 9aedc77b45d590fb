# Outputs. `lake_env` / `lake_env_exports` are exactly the environment variables that
# lake_platform reads in LAKE_ENV=aws mode:
#   terraform output -raw lake_env_exports > .lake-aws.env && source .lake-aws.env

locals {
  lake_env = {
    LAKE_ENV                  = "aws"
    AWS_REGION                = var.aws_region
    LAKE_RAW_BUCKET           = module.storage.raw_bucket
    LAKE_SOURCE_BUCKET        = module.storage.source_bucket
    LAKE_TARGET_BUCKET        = module.storage.target_bucket
    LAKE_CONFIGS_TABLE        = module.dynamodb.configs_table_name
    LAKE_PARTITIONS_TABLE     = module.dynamodb.partitions_table_name
    LAKE_STATE_MACHINE_ARN    = module.orchestration.state_machine_arn
    LAKE_ATHENA_WORKGROUP     = module.athena.workgroup_name
    LAKE_PIPES_BUCKET         = module.storage.artifacts_bucket
    LAKE_PIPES_PREFIX         = local.pipes_prefix
    LAKE_LANDING_QUEUE_URL    = aws_sqs_queue.landing_events.id
    LAKE_ALERTS_TOPIC_ARN     = module.monitoring.alerts_topic_arn
    LAKE_GLUE_JOB_PREFIX      = local.glue_job_prefix
    LAKE_GLUE_DATABASE_PREFIX = local.glue_database_prefix
  }
}

output "lake_env" {
  description = "Environment variables of the Dagster deployment in LAKE_ENV=aws mode (name => value)."
  value       = local.lake_env
}

output "lake_env_exports" {
  description = "The same variables as `export NAME=value` lines, for `source`."
  value       = join("\n", [for k in sort(keys(local.lake_env)) : "export ${k}=${local.lake_env[k]}"])
}

output "glue_jobs" {
  description = "Glue job name (= etl_job of the configs) => script location."
  value       = { for name, job in aws_glue_job.this : name => job.command[0].script_location }
}

output "glue_databases" {
  description = "Glue Data Catalog databases (one per config target.database)."
  value       = sort(keys(aws_glue_catalog_database.this))
}

output "config_items" {
  description = "config_name of every item written to the configs table."
  value       = module.dynamodb.config_item_names
}

output "artifacts_bucket" {
  description = "Bucket holding the Glue scripts, the lake_glue package and the Glue temp dir."
  value       = module.storage.artifacts_bucket
}

output "athena_results_bucket" {
  description = "Bucket receiving Athena query results."
  value       = module.storage.athena_results_bucket
}

output "access_logs_bucket" {
  description = "Bucket receiving S3 server access logs."
  value       = module.storage.access_logs_bucket
}

output "kms_key_arn" {
  description = "ARN of the platform CMK."
  value       = module.kms.key_arn
}

output "alerts_topic_arn" {
  description = "SNS topic receiving failure notifications and alarms."
  value       = module.monitoring.alerts_topic_arn
}

output "glue_job_role_arn" {
  description = "IAM role of the Glue jobs."
  value       = aws_iam_role.glue_job.arn
}

output "dagster_policy_arn" {
  description = "IAM policy to attach to the Dagster deployment's role."
  value       = aws_iam_policy.dagster.arn
}

output "configs_writer_policy_arn" {
  description = "IAM policy allowing `lake configs push` to write the configs table."
  value       = aws_iam_policy.configs_writer.arn
}

output "glue_connection_name" {
  description = "Glue connection of the jobs when enable_vpc is true, else null."
  value       = var.enable_vpc ? module.network[0].glue_connection_name : null
}

output "dagster_ui_url" {
  description = "URL of the Dagster UI (internal ALB unless dagster_ui.public); null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].ui_url : null
}

output "dagster_ecr_repository_url" {
  description = "ECR repository of the Dagster image; null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].ecr_repository_url : null
}

output "dagster_cluster_name" {
  description = "ECS cluster of the Dagster services; null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].cluster_name : null
}

output "dagster_task_role_arn" {
  description = "IAM role of the Dagster tasks; null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].task_role_arn : null
}

output "dagster_db_endpoint" {
  description = "Address of the Dagster PostgreSQL instance; the password stays in the RDS-managed secret. null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].db_endpoint : null
}

output "dagster_db_name" {
  description = "Database of the Dagster storage; null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].db_name : null
}

output "dagster_db_user" {
  description = "User of the Dagster database (the password stays in the RDS-managed secret); null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].db_user : null
}

output "dagster_db_secret_arn" {
  description = "ARN of the RDS-managed secret of the Dagster database (an ARN, not the password); null without enable_dagster."
  value       = var.enable_dagster ? module.dagster[0].db_secret_arn : null
}

output "analyst_policy_arn" {
  description = "Managed policy for analysts: Athena in the analysts workgroup, read on the environment's catalog databases and lake buckets, KMS decrypt."
  value       = aws_iam_policy.analyst.arn
}

output "analyst_role_arn" {
  description = "Role analysts assume (null unless analyst_trusted_principals is set)."
  value       = length(aws_iam_role.analyst) == 0 ? null : aws_iam_role.analyst[0].arn
}
