variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"; also the key alias."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\"; the key alias is alias/<name_prefix>)."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number from 7 to 30, the range KMS accepts."
  }
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
