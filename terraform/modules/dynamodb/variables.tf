variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used for DynamoDB server-side encryption."
  type        = string
}

variable "configs" {
  description = "One entry per configs/*.json keyed by config_name: its config_type, etl_job and body (the whole document as a JSON string). Each becomes one item of the configs table."
  type = map(object({
    config_type = string
    etl_job     = string
    body        = string
  }))
  default = {}
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
}
