# A private, encrypted, versioned, TLS-only bucket with lifecycle rules. Every bucket of the
# platform is an instance of this module: the data buckets use SSE-KMS and send their S3 server
# access logs to the access-log bucket; the access-log bucket itself uses SSE-S3 (AES256), has no
# access logging and allows log delivery through extra_policy_statements (see modules/storage).

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; raw data can be re-sent from the on-premise systems and source/target are rebuilt from raw. Enable per environment if RPO requires it.
  #checkov:skip=CKV2_AWS_62:Event notifications are enabled only where a consumer exists (var.eventbridge_notifications, raw bucket); the other buckets have no consumer.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = var.sse_algorithm == "aws:kms" ? var.kms_key_arn : null
    }
    # S3 Bucket Keys cut the number of KMS requests (and their cost) by orders of magnitude.
    bucket_key_enabled = var.sse_algorithm == "aws:kms" ? true : null
  }

  lifecycle {
    precondition {
      condition     = (var.sse_algorithm == "aws:kms") == (var.kms_key_arn != null)
      error_message = "kms_key_arn must be set when sse_algorithm is aws:kms, and null when it is AES256 (bucket ${var.bucket_name})."
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

# Off only for the access-log bucket itself (logging it into itself would loop).
resource "aws_s3_bucket_logging" "this" {
  count         = var.access_log_bucket == null ? 0 : 1
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

moved {
  from = aws_s3_bucket_logging.this
  to   = aws_s3_bucket_logging.this[0]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = var.lifecycle_rule_id
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    dynamic "transition" {
      for_each = var.transition_to_ia_days == null ? [] : [var.transition_to_ia_days]
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    dynamic "transition" {
      for_each = var.transition_to_glacier_ir_days == null ? [] : [var.transition_to_glacier_ir_days]
      content {
        days          = transition.value
        storage_class = "GLACIER_IR"
      }
    }

    dynamic "expiration" {
      for_each = var.expiration_days == null ? [] : [var.expiration_days]
      content {
        days = expiration.value
      }
    }
  }

  # The bucket is versioned: a delete leaves a marker over the object's versions, and once
  # noncurrent_version_expiration has removed them the marker stands alone ("expired"), still
  # listed by every versioned LIST. S3 refuses this action beside days in one rule, hence its own.
  rule {
    id     = "expired-delete-markers"
    status = "Enabled"
    filter {}

    expiration {
      expired_object_delete_marker = true
    }
  }

  dynamic "rule" {
    for_each = var.prefix_expirations
    content {
      id     = "expire-${replace(trimsuffix(rule.key, "/"), "/", "-")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 1
      }
      expiration {
        days = rule.value
      }
      noncurrent_version_expiration {
        noncurrent_days = 1
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]

  lifecycle {
    # S3 rejects a rule whose transitions or expiration are not in increasing order of days.
    precondition {
      condition = (
        var.transition_to_ia_days == null || var.transition_to_glacier_ir_days == null ? true :
        var.transition_to_glacier_ir_days > var.transition_to_ia_days
      )
      error_message = "transition_to_glacier_ir_days must be greater than transition_to_ia_days (bucket ${var.bucket_name})."
    }
    precondition {
      condition = (
        var.expiration_days == null ? true :
        var.expiration_days > max(0, coalesce(var.transition_to_ia_days, 0), coalesce(var.transition_to_glacier_ir_days, 0))
      )
      error_message = "expiration_days must be greater than every transition day count (bucket ${var.bucket_name})."
    }
  }
}

resource "aws_s3_bucket_notification" "this" {
  count       = var.eventbridge_notifications ? 1 : 0
  bucket      = aws_s3_bucket.this.id
  eventbridge = true
}

data "aws_iam_policy_document" "tls_only" {
  # Caller-specific grants (e.g. S3 server access log delivery); resources are key patterns of
  # this bucket.
  dynamic "statement" {
    for_each = var.extra_policy_statements
    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = [for pattern in statement.value.key_patterns : "${aws_s3_bucket.this.arn}/${pattern}"]

      dynamic "principals" {
        for_each = statement.value.principals
        content {
          type        = principals.value.type
          identifiers = principals.value.identifiers
        }
      }

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
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

  statement {
    sid     = "DenyOutdatedTLS"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this.arn,
      "${aws_s3_bucket.this.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
