variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\". Bucket names add the account id to stay globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix)) && !can(regex("^(xn--|sthree-|amzn-s3-demo-)", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes starting with a letter, without the xn--, sthree- or amzn-s3-demo- prefixes S3 reserves (bucket names are <name_prefix>-<account>-<bucket>, at most 63 characters)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used for SSE-KMS on the data buckets."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "raw_transition_to_ia_days" {
  description = "Days after which raw objects move to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_to_ia_days >= 30 && floor(var.raw_transition_to_ia_days) == var.raw_transition_to_ia_days
    error_message = "raw_transition_to_ia_days must be a whole number of days, at least 30 (the S3 minimum for STANDARD_IA)."
  }
}

variable "raw_transition_to_glacier_ir_days" {
  description = "Days after which raw objects move to GLACIER_IR (must be later than raw_transition_to_ia_days)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_to_glacier_ir_days >= 31 && floor(var.raw_transition_to_glacier_ir_days) == var.raw_transition_to_glacier_ir_days
    error_message = "raw_transition_to_glacier_ir_days must be a whole number of days, at least 31 (after the STANDARD_IA transition, itself at least 30)."
  }
}

variable "raw_noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted raw object version is kept."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_noncurrent_version_expiration_days >= 1 && floor(var.raw_noncurrent_version_expiration_days) == var.raw_noncurrent_version_expiration_days
    error_message = "raw_noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "lake_noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted source/target object version is kept (undo window for a bad job run)."
  type        = number
  default     = 7

  validation {
    condition     = var.lake_noncurrent_version_expiration_days >= 1 && floor(var.lake_noncurrent_version_expiration_days) == var.lake_noncurrent_version_expiration_days
    error_message = "lake_noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results expire."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiration_days >= 1 && floor(var.athena_results_expiration_days) == var.athena_results_expiration_days
    error_message = "athena_results_expiration_days must be a whole number of days, at least 1."
  }
}

variable "pipes_prefix" {
  description = "Key prefix (with trailing slash) of the Dagster Pipes context/messages exchange in the artifacts bucket."
  type        = string
  default     = "dagster-pipes/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.pipes_prefix))
    error_message = "pipes_prefix must be an S3 key prefix ending in \"/\" (safe characters only, no leading \"/\", no empty segment), e.g. dagster-pipes/."
  }
}

variable "pipes_expiration_days" {
  description = "Days after which Dagster Pipes exchange objects expire."
  type        = number
  default     = 7

  validation {
    condition     = var.pipes_expiration_days >= 1 && floor(var.pipes_expiration_days) == var.pipes_expiration_days
    error_message = "pipes_expiration_days must be a whole number of days, at least 1."
  }
}

variable "compute_logs_prefix" {
  description = "Key prefix (with trailing slash) of the Dagster S3ComputeLogManager in the artifacts bucket."
  type        = string
  default     = "dagster-compute-logs/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.compute_logs_prefix))
    error_message = "compute_logs_prefix must be an S3 key prefix ending in \"/\" (safe characters only, no leading \"/\", no empty segment)."
  }
}

variable "compute_logs_expiration_days" {
  description = "Days after which Dagster compute logs (run stdout/stderr) expire."
  type        = number
  default     = 90

  validation {
    condition     = var.compute_logs_expiration_days >= 1 && floor(var.compute_logs_expiration_days) == var.compute_logs_expiration_days
    error_message = "compute_logs_expiration_days must be a whole number of days, at least 1."
  }
}

variable "glue_tmp_prefix" {
  description = "Key prefix (with trailing slash) of the Glue temporary directory in the artifacts bucket."
  type        = string
  default     = "glue/tmp/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.glue_tmp_prefix))
    error_message = "glue_tmp_prefix must be an S3 key prefix ending in \"/\" (safe characters only, no leading \"/\", no empty segment), e.g. glue/tmp/."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept (they move to STANDARD_IA after 30 days, so more than 30)."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 31 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number of days, at least 31 (logs move to STANDARD_IA after 30 days and S3 requires expiration after the transition)."
  }
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

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
