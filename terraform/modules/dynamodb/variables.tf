variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used for DynamoDB server-side encryption."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "configs" {
  description = "One entry per configs/*.json keyed by config_name: its config_type, etl_job and body (the whole document as a JSON string). Each becomes one item of the configs table."
  type = map(object({
    config_type = string
    etl_job     = string
    body        = string
  }))
  default = {}

  validation {
    condition     = alltrue([for name, c in var.configs : can(regex("^[A-Za-z0-9_.-]{1,255}$", name)) && contains(["spark_ingest", "prepare"], c.config_type) && can(regex("^[A-Za-z0-9_-]{1,255}$", c.etl_job)) && can(jsondecode(c.body))])
    error_message = "configs must be keyed by config_name (1-255 letters, digits, dots, dashes, underscores), with config_type spark_ingest or prepare, etl_job a Glue job name and body a JSON document."
  }
}

variable "deletion_protection" {
  description = "Enable DynamoDB deletion protection on both tables."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to both tables."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
