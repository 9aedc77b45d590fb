variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\")."
  }
}

variable "results_bucket" {
  description = "Name of the bucket that receives Athena query results."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.results_bucket))
    error_message = "results_bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used to encrypt query results."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels any query of this workgroup that scans more bytes than this (cost guard, minimum 10 MB)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760 && floor(var.bytes_scanned_cutoff_per_query) == var.bytes_scanned_cutoff_per_query
    error_message = "bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10485760 (10 MB, the Athena minimum)."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the workgroup with its saved queries."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the workgroup."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
