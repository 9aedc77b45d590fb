variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\". Bucket names add the account id to stay globally unique."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used for SSE-KMS on the data buckets."
  type        = string
}

variable "raw_transition_to_ia_days" {
  description = "Days after which raw objects move to STANDARD_IA."
  type        = number
  default     = 30
}

variable "raw_transition_to_glacier_ir_days" {
  description = "Days after which raw objects move to GLACIER_IR."
  type        = number
  default     = 90
}

variable "raw_noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted raw object version is kept."
  type        = number
  default     = 90
}

variable "lake_noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted source/target object version is kept (undo window for a bad job run)."
  type        = number
  default     = 7
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results expire."
  type        = number
  default     = 7
}

variable "pipes_prefix" {
  description = "Key prefix (with trailing slash) of the Dagster Pipes context/messages exchange in the artifacts bucket."
  type        = string
  default     = "dagster-pipes/"
}

variable "pipes_expiration_days" {
  description = "Days after which Dagster Pipes exchange objects expire."
  type        = number
  default     = 7
}

variable "glue_tmp_prefix" {
  description = "Key prefix (with trailing slash) of the Glue temporary directory in the artifacts bucket."
  type        = string
  default     = "glue/tmp/"
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (throw-away environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every bucket."
  type        = map(string)
  default     = {}
}
