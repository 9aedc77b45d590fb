output "raw_bucket" {
  description = "Name of the raw (landing) bucket."
  value       = module.bucket["raw"].id
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = module.bucket["raw"].arn
}

output "source_bucket" {
  description = "Name of the source-layer bucket."
  value       = module.bucket["source"].id
}

output "source_bucket_arn" {
  description = "ARN of the source-layer bucket."
  value       = module.bucket["source"].arn
}

output "target_bucket" {
  description = "Name of the target-layer bucket."
  value       = module.bucket["target"].id
}

output "target_bucket_arn" {
  description = "ARN of the target-layer bucket."
  value       = module.bucket["target"].arn
}

output "artifacts_bucket" {
  description = "Name of the artifacts bucket (Glue scripts, package zip, temp dir, Dagster Pipes)."
  value       = module.bucket["artifacts"].id
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = module.bucket["artifacts"].arn
}

output "athena_results_bucket" {
  description = "Name of the Athena query results bucket."
  value       = module.bucket["athena_results"].id
}

output "athena_results_bucket_arn" {
  description = "ARN of the Athena query results bucket."
  value       = module.bucket["athena_results"].arn
}

output "access_logs_bucket" {
  description = "Name of the S3 server access log bucket."
  value       = module.access_logs.id
}
