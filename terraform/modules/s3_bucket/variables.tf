variable "bucket_name" {
  description = "Globally unique name of the bucket."
  type        = string

  validation {
    condition = (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) &&
      !strcontains(var.bucket_name, "..") &&
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.bucket_name)) &&
      !can(regex("^(xn--|sthree-|amzn-s3-demo-)", var.bucket_name)) &&
      !can(regex("(-s3alias|--ol-s3|--x-s3|\\.mrap)$", var.bucket_name))
    )
    error_message = "bucket_name must follow the S3 naming rules: 3-63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit, no \"..\", not an IP address, no xn--/sthree-/amzn-s3-demo- prefix and no -s3alias/--ol-s3/--x-s3/.mrap suffix."
  }
}

variable "sse_algorithm" {
  description = "Default encryption: aws:kms (SSE-KMS with kms_key_arn and an S3 Bucket Key) or AES256 (SSE-S3, for S3 server access log destinations, which cannot be SSE-KMS)."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm must be aws:kms or AES256."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for default SSE-KMS encryption; required with sse_algorithm aws:kms, null with AES256."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "access_log_bucket" {
  description = "Name of the bucket that receives the S3 server access logs of this bucket; null disables access logging (only for the access-log bucket itself)."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots and dashes) or null."
  }
}

variable "lifecycle_rule_id" {
  description = "Id of the bucket-wide lifecycle rule."
  type        = string
  default     = "bucket-wide"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.lifecycle_rule_id))
    error_message = "lifecycle_rule_id must be 1-255 letters, digits, dots, dashes or underscores."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads of the bucket-wide rule are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of days, at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (bounds the cost of versioning)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "transition_to_ia_days" {
  description = "Days after creation when objects move to STANDARD_IA; null disables the transition."
  type        = number
  default     = null

  validation {
    condition     = var.transition_to_ia_days == null ? true : (var.transition_to_ia_days >= 30 && floor(var.transition_to_ia_days) == var.transition_to_ia_days)
    error_message = "transition_to_ia_days must be null or a whole number of days, at least 30 (the S3 minimum for STANDARD_IA)."
  }
}

variable "transition_to_glacier_ir_days" {
  description = "Days after creation when objects move to GLACIER_IR; null disables the transition."
  type        = number
  default     = null

  validation {
    condition     = var.transition_to_glacier_ir_days == null ? true : (var.transition_to_glacier_ir_days >= 0 && floor(var.transition_to_glacier_ir_days) == var.transition_to_glacier_ir_days)
    error_message = "transition_to_glacier_ir_days must be null or a whole number of days, at least 0."
  }
}

variable "expiration_days" {
  description = "Days after creation when every object of the bucket expires; null keeps objects."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null ? true : (var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days)
    error_message = "expiration_days must be null or a whole number of days, at least 1."
  }
}

variable "prefix_expirations" {
  description = "Map of key prefix => days after which objects under that prefix expire."
  type        = map(number)
  default     = {}

  validation {
    condition = alltrue([
      for prefix, days in var.prefix_expirations :
      can(regex("^[^/]+(/[^/]+)*/$", prefix)) && days >= 1 && floor(days) == days
    ])
    error_message = "prefix_expirations must map key prefixes ending in \"/\" (no leading \"/\", no empty segment) to whole numbers of days, at least 1."
  }
}

variable "eventbridge_notifications" {
  description = "Send the bucket's object events to Amazon EventBridge."
  type        = bool
  default     = false
}

variable "extra_policy_statements" {
  description = "Bucket policy statements added before the TLS-only denies, e.g. S3 server access log delivery. key_patterns are object key patterns inside this bucket (\"s3/*\"); the module turns them into ARNs."
  type = list(object({
    sid          = string
    effect       = optional(string, "Allow")
    actions      = list(string)
    key_patterns = list(string)
    principals = list(object({
      type        = string
      identifiers = list(string)
    }))
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.extra_policy_statements :
      can(regex("^[A-Za-z0-9]{1,100}$", s.sid)) &&
      contains(["Allow", "Deny"], s.effect) &&
      !contains(["DenyInsecureTransport", "DenyOutdatedTLS"], s.sid) &&
      length(s.actions) > 0 && !contains(s.actions, "*") && !contains(s.actions, "s3:*") &&
      length(s.key_patterns) > 0 &&
      length(s.principals) > 0
    ]) && length(distinct([for s in var.extra_policy_statements : s.sid])) == length(var.extra_policy_statements)
    error_message = "extra_policy_statements must each have a unique alphanumeric sid other than DenyInsecureTransport/DenyOutdatedTLS, effect Allow or Deny, at least one principal and key pattern, and actions that are not \"*\" or \"s3:*\"."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket (use only in throw-away environments)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
