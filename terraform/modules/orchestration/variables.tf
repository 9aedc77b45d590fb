variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK (execution data, log group, encrypted SNS topic)."
  type        = string
}

variable "sns_topic_arn" {
  description = "ARN of the SNS alert topic used by the NotifyFailure state and the alarms."
  type        = string
}

variable "glue_job_names" {
  description = "Names of the Glue jobs the state machine may start, stop and poll."
  type        = list(string)
}

variable "log_retention_days" {
  description = "Retention of the state machine's CloudWatch log group, in days."
  type        = number
  default     = 90
}

variable "log_level" {
  description = "Step Functions execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"
}

variable "log_execution_data" {
  description = "Include execution input/output in the logs (the arguments hold no secrets, but they add log volume)."
  type        = bool
  default     = true
}

variable "xray_tracing" {
  description = "Enable AWS X-Ray tracing of executions."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to the state machine, its role, log group and alarms."
  type        = map(string)
  default     = {}
}
