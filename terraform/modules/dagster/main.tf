# Production Dagster on ECS Fargate (DESIGN.md decision 8): a webserver, exactly one daemon and a
# code-location gRPC server found through Cloud Map; every run is its own Fargate task started by
# dagster-aws's EcsRunLauncher from the code location's task definition. RDS PostgreSQL holds run,
# event-log and schedule storage (batch progress), S3 holds compute logs.
#
# File map: main.tf (names, cluster, Cloud Map, logs), ecs.tf (task definitions, services),
# rds.tf (database), alb.tf (UI), ecr.tf (image repository), iam.tf (roles), network.tf
# (security groups), alarms.tf.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  cluster_name = "${var.name_prefix}-dagster"
  namespace    = "${var.name_prefix}.dagster.local"
  services     = toset(["webserver", "daemon", "code"])
  sizes        = { webserver = var.webserver, daemon = var.daemon, code = var.code }

  # Runs use the code location's task definition by family: the launcher resolves it to the
  # latest ACTIVE revision, so a deploy switches runs to the new image with the code server.
  code_family = "${var.name_prefix}-dagster-code"

  image = "${aws_ecr_repository.dagster.repository_url}:${var.image_tag}"

  # deploy/workspace.yaml is baked into the image (contract of issue 20).
  workspace = "/opt/dagster/app/workspace.yaml"
  commands = {
    code      = ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "lake_platform.definitions"]
    webserver = ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", local.workspace]
    daemon    = ["dagster-daemon", "run", "-w", local.workspace]
  }

  # Every container gets the same environment; the password is only an ECS secret (ecs.tf).
  container_environment = merge(var.lake_environment, {
    LAKE_ENV                    = "aws"
    DAGSTER_HOME                = "/opt/dagster/dagster_home"
    DAGSTER_PG_HOST             = aws_db_instance.dagster.address
    DAGSTER_PG_PORT             = tostring(aws_db_instance.dagster.port)
    DAGSTER_PG_DB               = aws_db_instance.dagster.db_name
    DAGSTER_PG_USER             = aws_db_instance.dagster.username
    DAGSTER_COMPUTE_LOGS_BUCKET = var.compute_logs_bucket
    DAGSTER_COMPUTE_LOGS_PREFIX = var.compute_logs_prefix
    DAGSTER_RUN_TASK_DEFINITION = local.code_family
    DAGSTER_CODE_SERVER_HOST    = "code.${local.namespace}"
    DAGSTER_ECS_CLUSTER         = local.cluster_name
  })
  container_secrets = {
    DAGSTER_PG_PASSWORD = "${aws_db_instance.dagster.master_user_secret[0].secret_arn}:password::"
  }
}

resource "aws_ecs_cluster" "dagster" {
  name = "${var.name_prefix}-dagster"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_service_discovery_private_dns_namespace" "dagster" {
  name        = "${var.name_prefix}.dagster.local"
  description = "Dagster code location discovery for ${var.name_prefix}."
  vpc         = var.vpc_id
  tags        = var.tags
}

# code.<prefix>.dagster.local -> the code server task's IP (awsvpc: A records).
resource "aws_service_discovery_service" "code" {
  name = "code"

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.dagster.id
    routing_policy = "MULTIVALUE"

    dns_records {
      ttl  = 10
      type = "A"
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "dagster" {
  #checkov:skip=CKV_AWS_338:Retention is the platform's log_retention_days variable (prod.tfvars keeps 365 days); dev keeps less on purpose.
  for_each          = local.services
  name              = "/ecs/${var.name_prefix}-dagster/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
