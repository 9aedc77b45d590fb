variable "bucket_name" {
  description = "Globally unique name of the bucket."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for default SSE-KMS encryption."
  type        = string
}

variable "access_log_bucket" {
  description = "Name of the bucket that receives the S3 server access logs of this bucket."
  type        = string
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted (bounds the cost of versioning)."
  type        = number
  default     = 30
}

variable "transition_to_ia_days" {
  description = "Days after creation when objects move to STANDARD_IA; null disables the transition."
  type        = number
  default     = null
}

variable "transition_to_glacier_ir_days" {
  description = "Days after creation when objects move to GLACIER_IR; null disables the transition."
  type        = number
  default     = null
}

variable "expiration_days" {
  description = "Days after creation when every object of the bucket expires; null keeps objects."
  type        = number
  default     = null
}

variable "prefix_expirations" {
  description = "Map of key prefix => days after which objects under that prefix expire."
  type        = map(number)
  default     = {}
}

variable "eventbridge_notifications" {
  description = "Send the bucket's object events to Amazon EventBridge."
  type        = bool
  default     = false
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
}
