# The platform's buckets:
#   raw       landing/<config_name>/<table_name>/<batch_id>/... + _SUCCESS  (versioned, tiered)
#   source    <target.prefix>/<table>/... Parquet + quarantine/...
#   target    <target.prefix>/<table>/... curated Parquet read by Athena
#   artifacts Glue scripts, the lake_glue package zip, Glue temp dir, Dagster Pipes exchange
#   athena    Athena query results
#   logs      S3 server access logs of all the buckets above

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  names = {
    raw       = "${var.name_prefix}-${local.account_id}-raw"
    source    = "${var.name_prefix}-${local.account_id}-source"
    target    = "${var.name_prefix}-${local.account_id}-target"
    artifacts = "${var.name_prefix}-${local.account_id}-artifacts"
    athena    = "${var.name_prefix}-${local.account_id}-athena-results"
    logs      = "${var.name_prefix}-${local.account_id}-access-logs"
  }
}

# ---------------------------------------------------------------------------------------------
# Access-log bucket. S3 server access log delivery does not support SSE-KMS on the destination
# bucket, so this one bucket uses SSE-S3 (AES256) and is therefore not an s3_bucket instance.
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging only supports SSE-S3 (AES256) on the destination bucket, not SSE-KMS.
  #checkov:skip=CKV_AWS_18:This is the access-log destination; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are kept for audit in-region; replicating them doubles cost for no recovery benefit.
  #checkov:skip=CKV2_AWS_62:No consumer for object events on the access-log bucket.
  bucket        = local.names.logs
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.logs]
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "S3ServerAccessLogsDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket     = aws_s3_bucket.logs.id
  policy     = data.aws_iam_policy_document.logs.json
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------------------------------------
# Data buckets
# ---------------------------------------------------------------------------------------------
module "raw" {
  source                             = "../s3_bucket"
  bucket_name                        = local.names.raw
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = aws_s3_bucket.logs.id
  transition_to_ia_days              = var.raw_transition_to_ia_days
  transition_to_glacier_ir_days      = var.raw_transition_to_glacier_ir_days
  noncurrent_version_expiration_days = var.raw_noncurrent_version_expiration_days
  eventbridge_notifications          = true
  force_destroy                      = var.force_destroy
  tags                               = merge(var.tags, { layer = "raw" })
}

module "source" {
  source                             = "../s3_bucket"
  bucket_name                        = local.names.source
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = aws_s3_bucket.logs.id
  noncurrent_version_expiration_days = var.lake_noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
  tags                               = merge(var.tags, { layer = "source" })
}

module "target" {
  source                             = "../s3_bucket"
  bucket_name                        = local.names.target
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = aws_s3_bucket.logs.id
  noncurrent_version_expiration_days = var.lake_noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
  tags                               = merge(var.tags, { layer = "target" })
}

module "artifacts" {
  source                             = "../s3_bucket"
  bucket_name                        = local.names.artifacts
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = aws_s3_bucket.logs.id
  noncurrent_version_expiration_days = 90
  prefix_expirations = {
    (var.pipes_prefix)    = var.pipes_expiration_days
    (var.glue_tmp_prefix) = 2
  }
  force_destroy = var.force_destroy
  tags          = var.tags
}

module "athena_results" {
  source                             = "../s3_bucket"
  bucket_name                        = local.names.athena
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = aws_s3_bucket.logs.id
  expiration_days                    = var.athena_results_expiration_days
  noncurrent_version_expiration_days = 1
  force_destroy                      = var.force_destroy
  tags                               = var.tags
}
