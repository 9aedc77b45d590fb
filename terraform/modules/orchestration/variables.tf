variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK (execution data, log group, encrypted SNS topic)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "sns_topic_arn" {
  description = "ARN of the SNS alert topic used by the NotifyFailure state and the alarms."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}

variable "glue_job_names" {
  description = "Names of the Glue jobs the state machine may start, stop and poll."
  type        = list(string)

  validation {
    condition     = length(var.glue_job_names) > 0 && alltrue([for n in var.glue_job_names : can(regex("^[A-Za-z0-9_-]{1,255}$", n))])
    error_message = "glue_job_names must list at least one Glue job name, each 1-255 letters, digits, dashes or underscores."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machine's CloudWatch log group, in days."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_level" {
  description = "Step Functions execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
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

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the state machine role (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN (arn:<partition>:iam::<account>:policy/<name>)."
  }
}
