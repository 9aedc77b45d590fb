# State moves for the refactoring of this module: the five data-bucket module calls became one
# for_each call, and the hand-written access-log bucket became an s3_bucket instance. Keep
# these blocks until every environment has applied them.

moved {
  from = module.raw
  to   = module.bucket["raw"]
}

moved {
  from = module.source
  to   = module.bucket["source"]
}

moved {
  from = module.target
  to   = module.bucket["target"]
}

moved {
  from = module.artifacts
  to   = module.bucket["artifacts"]
}

moved {
  from = module.athena_results
  to   = module.bucket["athena_results"]
}

moved {
  from = aws_s3_bucket.logs
  to   = module.access_logs.aws_s3_bucket.this
}

moved {
  from = aws_s3_bucket_ownership_controls.logs
  to   = module.access_logs.aws_s3_bucket_ownership_controls.this
}

moved {
  from = aws_s3_bucket_public_access_block.logs
  to   = module.access_logs.aws_s3_bucket_public_access_block.this
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.logs
  to   = module.access_logs.aws_s3_bucket_server_side_encryption_configuration.this
}

moved {
  from = aws_s3_bucket_versioning.logs
  to   = module.access_logs.aws_s3_bucket_versioning.this
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.logs
  to   = module.access_logs.aws_s3_bucket_lifecycle_configuration.this
}

moved {
  from = aws_s3_bucket_policy.logs
  to   = module.access_logs.aws_s3_bucket_policy.this
}
