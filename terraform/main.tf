# lake_platform: the AWS side of the data lake that the Dagster code location orchestrates.
#
#   on-premise exports --> raw bucket (landing/...) --Glue ingest--> source bucket + catalog
#                                                   --Glue prepare--> target bucket + catalog --> Athena
#
# Dagster (schedules, sensors, asset materializations) starts one Step Functions execution per
# Glue job run; the state machine runs the job with glue:startJobRun.sync and alerts on failure.
# Every job reads its configuration from DynamoDB, written here from configs/*.json.
#
# File map: main.tf (providers, configs, shared modules), glue_jobs.tf (Glue jobs, scripts,
# catalog), iam.tf (Glue job role, Dagster deployment policies), output.tf (outputs).

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  tags = merge(var.tags, {
    project     = var.project
    environment = var.environment
    managed_by  = "terraform"
  })

  # Git is the source of truth for configs: every configs/*.json becomes a DynamoDB item, and
  # its etl_job decides which Glue jobs exist (glue_jobs.tf).
  configs_dir  = "${path.module}/../configs"
  config_files = fileset(local.configs_dir, "*.json")
  configs = {
    for f in local.config_files :
    jsondecode(file("${local.configs_dir}/${f}")).config_name => jsondecode(file("${local.configs_dir}/${f}"))
  }

  pipes_prefix = "dagster-pipes/"
  # S3ComputeLogManager's prefix in the artifacts bucket (expires after
  # dagster_compute_logs_expiration_days).
  compute_logs_prefix = "dagster-compute-logs/"
}

module "kms" {
  source      = "./modules/kms"
  name_prefix = local.name_prefix
}

module "storage" {
  source                            = "./modules/storage"
  name_prefix                       = local.name_prefix
  kms_key_arn                       = module.kms.key_arn
  raw_transition_to_ia_days         = var.raw_transition_to_ia_days
  raw_transition_to_glacier_ir_days = var.raw_transition_to_glacier_ir_days
  athena_results_expiration_days    = var.athena_results_expiration_days
  pipes_prefix                      = local.pipes_prefix
  pipes_expiration_days             = var.pipes_expiration_days
  glue_tmp_prefix                   = local.glue_tmp_prefix
  compute_logs_prefix               = local.compute_logs_prefix
  compute_logs_expiration_days      = var.dagster_compute_logs_expiration_days
  access_log_retention_days         = var.access_log_retention_days
  force_destroy                     = var.force_destroy
}

module "dynamodb" {
  source              = "./modules/dynamodb"
  name_prefix         = local.name_prefix
  kms_key_arn         = module.kms.key_arn
  deletion_protection = var.deletion_protection
  configs = {
    for name, c in local.configs : name => {
      config_type = c.config_type
      etl_job     = c.etl_job
      body        = jsonencode(c)
    }
  }
}

module "monitoring" {
  source       = "./modules/monitoring"
  name_prefix  = local.name_prefix
  kms_key_arn  = module.kms.key_arn
  alert_emails = var.alert_emails
}

module "orchestration" {
  source                   = "./modules/orchestration"
  name_prefix              = local.name_prefix
  kms_key_arn              = module.kms.key_arn
  sns_topic_arn            = module.monitoring.alerts_topic_arn
  glue_job_names           = local.glue_job_names
  log_retention_days       = var.log_retention_days
  permissions_boundary_arn = var.permissions_boundary_arn
  log_level                = var.sfn_log_level
  xray_tracing             = var.xray_tracing
}

module "athena" {
  source                         = "./modules/athena"
  name_prefix                    = local.name_prefix
  results_bucket                 = module.storage.athena_results_bucket
  kms_key_arn                    = module.kms.key_arn
  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
  force_destroy                  = var.force_destroy
}

module "network" {
  source             = "./modules/network"
  count              = var.enable_vpc ? 1 : 0
  name_prefix        = local.name_prefix
  vpc_id             = var.vpc_id
  subnet_ids         = var.private_subnet_ids
  route_table_ids    = var.private_route_table_ids
  on_premise_cidrs   = var.on_premise_cidrs
  https_egress_cidrs = var.https_egress_cidrs
  jdbc_port          = var.jdbc_port
  jdbc_url           = var.jdbc_url
  jdbc_secret_id     = var.jdbc_secret_arn
}

# Production Dagster (webserver, daemon, code server, runs) on ECS Fargate with RDS PostgreSQL.
# On by default; it needs vpc_id and private_subnet_ids (the module's validation says so).
module "dagster" {
  source                   = "./modules/dagster"
  count                    = var.enable_dagster ? 1 : 0
  name_prefix              = local.name_prefix
  kms_key_arn              = module.kms.key_arn
  alerts_topic_arn         = module.monitoring.alerts_topic_arn
  permissions_boundary_arn = var.permissions_boundary_arn
  dagster_policy_arn       = aws_iam_policy.dagster.arn
  extra_task_policy_arns   = var.dagster_can_push_configs ? { configs_writer = aws_iam_policy.configs_writer.arn } : {}
  vpc_id                   = var.vpc_id
  private_subnet_ids       = var.private_subnet_ids
  public_subnet_ids        = var.dagster_public_subnet_ids
  image_tag                = var.dagster_image_tag
  lake_environment         = local.lake_env
  compute_logs_bucket      = module.storage.artifacts_bucket
  compute_logs_bucket_arn  = module.storage.artifacts_bucket_arn
  compute_logs_prefix      = local.compute_logs_prefix
  db_instance_class        = var.dagster_db_instance_class
  db_multi_az              = var.dagster_db_multi_az
  db_skip_final_snapshot   = var.force_destroy
  deletion_protection      = var.deletion_protection
  ui                       = var.dagster_ui
  ui_oidc_client_secret    = var.dagster_ui_oidc_client_secret
  log_retention_days       = var.log_retention_days
}
