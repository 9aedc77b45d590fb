# The analysts' Athena workgroup. Its settings are enforced, so a client cannot write
# unencrypted results elsewhere or scan without the per-query cost guard.

resource "aws_athena_workgroup" "this" {
  name          = "${var.name_prefix}-analysts"
  description   = "Queries over the lake_platform Glue Data Catalog databases."
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${var.results_bucket}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }

      acl_configuration {
        s3_acl_option = "BUCKET_OWNER_FULL_CONTROL"
      }
    }
  }

  tags = var.tags
}
