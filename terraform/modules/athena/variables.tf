variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string
}

variable "results_bucket" {
  description = "Name of the bucket that receives Athena query results."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK used to encrypt query results."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels any query of this workgroup that scans more bytes than this (cost guard, minimum 10 MB)."
  type        = number
  default     = 10737418240
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
}
