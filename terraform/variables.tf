variable "project" {
  description = "Project name, first part of every resource name."
  type        = string
  default     = "lake-platform"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be lower-case letters, digits and dashes (2-21 characters)."
  }
}

variable "environment" {
  description = "Deployment environment (dev, test, prod); second part of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be lower-case letters and digits (2-10 characters)."
  }
}

variable "aws_region" {
  description = "AWS region of the platform."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Extra tags added to every resource (project and environment tags are always set)."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Allow terraform destroy to empty buckets and drop the workgroup; keep false outside throw-away environments."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Enable deletion protection on the DynamoDB tables."
  type        = bool
  default     = true
}

# --- S3 lifecycle ------------------------------------------------------------------------

variable "raw_transition_to_ia_days" {
  description = "Days after which raw landing files move to S3 Standard-IA."
  type        = number
  default     = 30
}

variable "raw_transition_to_glacier_ir_days" {
  description = "Days after which raw landing files move to S3 Glacier Instant Retrieval."
  type        = number
  default     = 90
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 7
}

variable "pipes_expiration_days" {
  description = "Days after which Dagster Pipes context/message objects are deleted."
  type        = number
  default     = 7
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365
}

# --- Glue ----------------------------------------------------------------------------------

variable "glue_version" {
  description = "AWS Glue version of the jobs (5.0 = Spark 3.5, Python 3.11, matching local development)."
  type        = string
  default     = "5.0"
}

variable "dagster_pipes_version" {
  description = "dagster-pipes version installed in the Glue jobs through --additional-python-modules; must match the Dagster deployment."
  type        = string
  default     = "1.13.27"
}

variable "pyiceberg_version" {
  description = "pyiceberg version installed in the Glue jobs through --additional-python-modules; the jobs commit every batch to the Iceberg tables with it. Must match uv.lock."
  type        = string
  default     = "0.12.0"
}

variable "glue_max_concurrent_runs" {
  description = "Maximum concurrent runs of each Glue job (tables and batches run in parallel)."
  type        = number
  default     = 10
}

variable "glue_execution_class" {
  description = "Glue execution class: STANDARD, or FLEX (cheaper, spare capacity, slower start) for jobs without a tight deadline."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "FLEX"], var.glue_execution_class)
    error_message = "glue_execution_class must be STANDARD or FLEX."
  }
}

variable "glue_auto_scaling" {
  description = "Let Glue scale the workers down below number_of_workers when a stage needs fewer (pay only for what is used)."
  type        = bool
  default     = true
}

variable "manage_catalog_encryption" {
  description = "Manage the account-wide Glue Data Catalog encryption settings (one per account and region; set false if another stack owns them)."
  type        = bool
  default     = true
}

# --- Orchestration and monitoring ---------------------------------------------------------

variable "log_retention_days" {
  description = "Retention in days of the platform's CloudWatch log groups (Glue jobs, Step Functions)."
  type        = number
  default     = 90
}

variable "sfn_log_level" {
  description = "Step Functions execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"
}

variable "xray_tracing" {
  description = "Enable AWS X-Ray tracing of the state machine executions."
  type        = bool
  default     = true
}

variable "alert_emails" {
  description = "E-mail addresses subscribed to the SNS alert topic."
  type        = list(string)
  default     = []
}

# --- Athena --------------------------------------------------------------------------------

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes a single Athena query of the workgroup may scan before it is cancelled (cost guard)."
  type        = number
  default     = 10737418240
}

# --- Dagster deployment ----------------------------------------------------------------------

variable "dagster_role_name" {
  description = "Name of an existing IAM role that runs the Dagster deployment (webserver, daemon, run workers); the platform policies are attached to it. null attaches nothing."
  type        = string
  default     = null
}

variable "dagster_can_push_configs" {
  description = "Also attach the configs-writer policy (for `lake configs push`) to dagster_role_name."
  type        = bool
  default     = false
}

# --- Optional VPC --------------------------------------------------------------------------

variable "enable_vpc" {
  description = "Run the Glue jobs inside a VPC (Glue connection, security group, S3/DynamoDB gateway endpoints)."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC id; required when enable_vpc is true."
  type        = string
  default     = null
}

variable "private_subnet_ids" {
  description = "Private subnet ids for the Glue connection; required when enable_vpc is true."
  type        = list(string)
  default     = []
}

variable "private_route_table_ids" {
  description = "Route table ids of the private subnets, for the gateway endpoints."
  type        = list(string)
  default     = []
}

variable "on_premise_cidrs" {
  description = "On-premise CIDR blocks (over Direct Connect / VPN) that the Glue security group may reach on jdbc_port."
  type        = list(string)
  default     = []
}

variable "https_egress_cidrs" {
  description = "CIDR blocks the Glue security group may reach on 443 for AWS APIs without gateway endpoints and PyPI (NAT or interface endpoints)."
  type        = list(string)
  default     = []
}

variable "jdbc_port" {
  description = "TCP port of the on-premise JDBC sources."
  type        = number
  default     = 5432
}

variable "jdbc_url" {
  description = "JDBC URL of an on-premise source; null creates a NETWORK-only Glue connection."
  type        = string
  default     = null
}

variable "jdbc_secret_arn" {
  description = "ARN of the Secrets Manager secret with the JDBC credentials (read by the Glue job role)."
  type        = string
  default     = null
}

variable "landing_events_retention_seconds" {
  description = "How long an unconsumed landing event stays on the queue (the listing sensor is the fallback after that)."
  type        = number
  default     = 345600
}

variable "landing_events_max_receives" {
  description = "Receives after which an unreadable landing event moves to the dead-letter queue."
  type        = number
  default     = 5
}
