variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used to encrypt the SNS topic."
  type        = string
}

variable "glue_job_names" {
  description = "Names of the Glue jobs whose failed runs are sent to the alert topic."
  type        = list(string)
}

variable "alert_emails" {
  description = "E-mail addresses subscribed to the alert topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to the topic and the rule."
  type        = map(string)
  default     = {}
}
