# The platform's buckets, all instances of ../s3_bucket:
#   raw       landing/<config_name>/<table_name>/<batch_id>/... + _SUCCESS  (versioned, tiered)
#   source    <target.prefix>/<table>/... Parquet + quarantine/...
#   target    <target.prefix>/<table>/... curated Parquet read by Athena
#   artifacts Glue scripts, the lake_glue package zip, Glue temp dir, Dagster Pipes exchange
#   athena    Athena query results
#   logs      S3 server access logs of all the buckets above

data "aws_caller_identity" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  bucket_prefix = "${var.name_prefix}-${local.account_id}"

  # What a data bucket gets unless its entry below says otherwise (null = off).
  data_bucket_defaults = {
    transition_to_ia_days         = null
    transition_to_glacier_ir_days = null
    expiration_days               = null
    prefix_expirations            = {}
    eventbridge_notifications     = false
    tags                          = {}
  }

  # One entry per data bucket, holding only how it differs from the defaults.
  data_bucket_settings = {
    raw = {
      name                               = "${local.bucket_prefix}-raw"
      transition_to_ia_days              = var.raw_transition_to_ia_days
      transition_to_glacier_ir_days      = var.raw_transition_to_glacier_ir_days
      noncurrent_version_expiration_days = var.raw_noncurrent_version_expiration_days
      eventbridge_notifications          = true
      tags                               = { layer = "raw" }
    }
    source = {
      name                               = "${local.bucket_prefix}-source"
      noncurrent_version_expiration_days = var.lake_noncurrent_version_expiration_days
      tags                               = { layer = "source" }
    }
    target = {
      name                               = "${local.bucket_prefix}-target"
      noncurrent_version_expiration_days = var.lake_noncurrent_version_expiration_days
      tags                               = { layer = "target" }
    }
    artifacts = {
      name                               = "${local.bucket_prefix}-artifacts"
      noncurrent_version_expiration_days = 90
      prefix_expirations = {
        (var.pipes_prefix)        = var.pipes_expiration_days
        (var.glue_tmp_prefix)     = 2
        (var.compute_logs_prefix) = var.compute_logs_expiration_days
      }
    }
    athena_results = {
      name                               = "${local.bucket_prefix}-athena-results"
      expiration_days                    = var.athena_results_expiration_days
      noncurrent_version_expiration_days = 1
    }
  }

  data_buckets = { for key, settings in local.data_bucket_settings : key => merge(local.data_bucket_defaults, settings) }
}

# Access-log bucket. S3 server access log delivery does not support SSE-KMS on the destination
# bucket, so this one bucket uses SSE-S3 (AES256); it gets the same TLS-only policy as the
# others, plus the log-delivery grant.
module "access_logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging only supports SSE-S3 (AES256) on the destination bucket, not SSE-KMS.
  #checkov:skip=CKV_AWS_18:This is the access-log destination; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are kept for audit in-region; replicating them doubles cost for no recovery benefit.
  #checkov:skip=CKV2_AWS_62:No consumer for object events on the access-log bucket.
  source = "../s3_bucket"

  bucket_name                            = "${local.bucket_prefix}-access-logs"
  sse_algorithm                          = "AES256"
  access_log_bucket                      = null
  lifecycle_rule_id                      = "expire-access-logs"
  abort_incomplete_multipart_upload_days = 1
  transition_to_ia_days                  = 30
  expiration_days                        = var.access_log_retention_days
  noncurrent_version_expiration_days     = 1
  extra_policy_statements = [{
    sid          = "S3ServerAccessLogsDelivery"
    actions      = ["s3:PutObject"]
    key_patterns = ["s3/*"]
    principals   = [{ type = "Service", identifiers = ["logging.s3.amazonaws.com"] }]
    conditions   = [{ test = "StringEquals", variable = "aws:SourceAccount", values = [local.account_id] }]
  }]
  force_destroy = var.force_destroy
  tags          = var.tags
}

# Data buckets
module "bucket" {
  source   = "../s3_bucket"
  for_each = local.data_buckets

  bucket_name                        = each.value.name
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = module.access_logs.id
  transition_to_ia_days              = each.value.transition_to_ia_days
  transition_to_glacier_ir_days      = each.value.transition_to_glacier_ir_days
  expiration_days                    = each.value.expiration_days
  noncurrent_version_expiration_days = each.value.noncurrent_version_expiration_days
  prefix_expirations                 = each.value.prefix_expirations
  eventbridge_notifications          = each.value.eventbridge_notifications
  force_destroy                      = var.force_destroy
  tags                               = merge(var.tags, each.value.tags)
}
