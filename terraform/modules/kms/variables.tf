variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"; also the key alias."
  type        = string
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion takes effect (7-30 days)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}
}
