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

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region code such as eu-west-1 or us-gov-west-1."
  }
}

variable "tags" {
  description = "Extra tags added to every resource (project and environment tags are always set)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
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

  validation {
    condition     = var.raw_transition_to_ia_days >= 30 && floor(var.raw_transition_to_ia_days) == var.raw_transition_to_ia_days
    error_message = "raw_transition_to_ia_days must be a whole number of days, at least 30 (the S3 minimum for STANDARD_IA)."
  }
}

variable "raw_transition_to_glacier_ir_days" {
  description = "Days after which raw landing files move to S3 Glacier Instant Retrieval (later than raw_transition_to_ia_days)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_to_glacier_ir_days >= 31 && floor(var.raw_transition_to_glacier_ir_days) == var.raw_transition_to_glacier_ir_days
    error_message = "raw_transition_to_glacier_ir_days must be a whole number of days, at least 31 (after the STANDARD_IA transition, itself at least 30)."
  }
}

variable "athena_results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiration_days >= 1 && floor(var.athena_results_expiration_days) == var.athena_results_expiration_days
    error_message = "athena_results_expiration_days must be a whole number of days, at least 1."
  }
}

variable "pipes_expiration_days" {
  description = "Days after which Dagster Pipes context/message objects are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.pipes_expiration_days >= 1 && floor(var.pipes_expiration_days) == var.pipes_expiration_days
    error_message = "pipes_expiration_days must be a whole number of days, at least 1."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept (they move to STANDARD_IA after 30 days, so more than 30)."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 31 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number of days, at least 31 (logs move to STANDARD_IA after 30 days and S3 requires expiration after the transition)."
  }
}

# --- Glue ----------------------------------------------------------------------------------

variable "glue_version" {
  description = "AWS Glue version of the jobs (5.0 = Spark 3.5, Python 3.11, matching local development)."
  type        = string
  default     = "5.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+$", var.glue_version)) ? tonumber(var.glue_version) >= 3 : false
    error_message = "glue_version must be a Glue version such as 5.0, at least 3.0 (auto scaling, FLEX and G.4X/G.8X workers need 3.0 or later)."
  }
}

variable "glue_wheels_zip" {
  description = "Path (relative to terraform/) of the zip of wheels the Glue jobs install with --no-index; `make glue-wheels` builds it from uv.lock before plan."
  type        = string
  default     = "../dist/glue-wheels.zip"

  validation {
    condition     = can(regex("\\.zip$", var.glue_wheels_zip))
    error_message = "glue_wheels_zip must name the .zip built by `make glue-wheels` (default ../dist/glue-wheels.zip)."
  }
}

variable "glue_max_concurrent_runs" {
  description = "Maximum concurrent runs of each Glue job (tables and batches run in parallel)."
  type        = number
  default     = 10

  validation {
    condition     = var.glue_max_concurrent_runs >= 1 && floor(var.glue_max_concurrent_runs) == var.glue_max_concurrent_runs
    error_message = "glue_max_concurrent_runs must be a whole number, at least 1."
  }
}

variable "glue_execution_class" {
  description = "Glue execution class of a job none of whose configs sets job_settings.execution_class: STANDARD, or FLEX (cheaper, spare capacity, slower start) for jobs without a tight deadline."
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

variable "catalog_encryption_owner" {
  description = "The one environment whose stack manages the account-wide Glue Data Catalog encryption settings (one per account and region); every other environment's stack leaves them alone. null: no stack manages them."
  type        = string
  default     = "prod"

  validation {
    condition     = var.catalog_encryption_owner == null || can(regex("^[a-z][a-z0-9]{1,9}$", var.catalog_encryption_owner))
    error_message = "catalog_encryption_owner must be an environment name (lower-case letters and digits, 2-10 characters) or null."
  }
}

variable "permissions_boundary_arn" {
  description = "Managed policy set as permissions boundary on every IAM role this stack creates (the seed's PermissionsBoundaryArn output, passed by CodeBuild as TF_VAR_permissions_boundary_arn)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM managed policy ARN (arn:<partition>:iam::<account>:policy/<name>)."
  }
}

# --- Orchestration and monitoring ---------------------------------------------------------

variable "log_retention_days" {
  description = "Retention in days of the platform's CloudWatch log groups (Glue jobs, Step Functions)."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "sfn_log_level" {
  description = "Step Functions execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.sfn_log_level)
    error_message = "sfn_log_level must be ALL, ERROR, FATAL or OFF."
  }
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

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses (name@domain.tld)."
  }
}

# --- Athena --------------------------------------------------------------------------------

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes a single Athena query of the workgroup may scan before it is cancelled (cost guard)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10485760 && floor(var.athena_bytes_scanned_cutoff_per_query) == var.athena_bytes_scanned_cutoff_per_query
    error_message = "athena_bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10485760 (10 MB, the Athena minimum)."
  }
}

# --- Dagster deployment ----------------------------------------------------------------------

variable "dagster_role_name" {
  description = "Name of an existing IAM role that runs the Dagster deployment (webserver, daemon, run workers); the platform policies are attached to it. The seed lets CodeBuild attach policies only to roles named <project>-<environment>-* that carry its permissions boundary, so the role must have both. null attaches nothing."
  type        = string
  default     = null

  validation {
    condition     = var.dagster_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.dagster_role_name))
    error_message = "dagster_role_name must be null or an IAM role name (1-64 letters, digits and +=,.@_- characters; a name, not an ARN)."
  }
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
  description = "VPC id; required when enable_vpc or enable_dagster is true."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-([0-9a-f]{8}|[0-9a-f]{17})$", var.vpc_id))
    error_message = "vpc_id must be null or a VPC id (vpc- followed by 8 or 17 hex digits)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnet ids for the Glue connection (enable_vpc) and the Dagster tasks, RDS and internal ALB (enable_dagster; two AZs)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.private_subnet_ids : can(regex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "private_subnet_ids must be subnet ids (subnet- followed by 8 or 17 hex digits)."
  }
}

variable "private_route_table_ids" {
  description = "Route table ids of the private subnets, for the gateway endpoints."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.private_route_table_ids : can(regex("^rtb-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "private_route_table_ids must be route table ids (rtb- followed by 8 or 17 hex digits)."
  }
}

variable "on_premise_cidrs" {
  description = "On-premise CIDR blocks (over Direct Connect / VPN) that the Glue security group may reach on jdbc_port."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.on_premise_cidrs : can(cidrnetmask(c)) && try(cidrsubnet(c, 0, 0) == c, false)])
    error_message = "on_premise_cidrs must be IPv4 CIDR blocks in canonical form (network address with prefix length, e.g. 10.20.0.0/16)."
  }
}

variable "https_egress_cidrs" {
  description = "CIDR blocks the Glue security group may reach on 443 for AWS APIs without gateway endpoints and PyPI (NAT or interface endpoints)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.https_egress_cidrs : can(cidrnetmask(c)) && try(cidrsubnet(c, 0, 0) == c, false)])
    error_message = "https_egress_cidrs must be IPv4 CIDR blocks in canonical form (network address with prefix length, e.g. 10.0.0.0/16 or 0.0.0.0/0)."
  }
}

variable "jdbc_port" {
  description = "TCP port of the on-premise JDBC sources."
  type        = number
  default     = 5432

  validation {
    condition     = var.jdbc_port >= 1 && var.jdbc_port <= 65535 && floor(var.jdbc_port) == var.jdbc_port
    error_message = "jdbc_port must be a whole number from 1 to 65535."
  }
}

variable "jdbc_url" {
  description = "JDBC URL of an on-premise source; null creates a NETWORK-only Glue connection."
  type        = string
  default     = null

  validation {
    condition     = var.jdbc_url == null || can(regex("^jdbc:[a-z][a-z0-9]*:.+$", var.jdbc_url))
    error_message = "jdbc_url must be null or a JDBC URL starting with jdbc:<subprotocol>: (e.g. jdbc:postgresql://host:5432/db)."
  }
}

variable "jdbc_secret_arn" {
  description = "ARN of the Secrets Manager secret with the JDBC credentials (read by the Glue job role)."
  type        = string
  default     = null

  validation {
    condition     = var.jdbc_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$", var.jdbc_secret_arn))
    error_message = "jdbc_secret_arn must be null or a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "landing_events_retention_seconds" {
  description = "How long an unconsumed landing event stays on the queue (the listing sensor is the fallback after that)."
  type        = number
  default     = 345600

  validation {
    condition     = var.landing_events_retention_seconds >= 60 && var.landing_events_retention_seconds <= 1209600 && floor(var.landing_events_retention_seconds) == var.landing_events_retention_seconds
    error_message = "landing_events_retention_seconds must be a whole number of seconds from 60 to 1209600 (14 days), the SQS limits."
  }
}

variable "landing_events_max_receives" {
  description = "Receives after which an unreadable landing event moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.landing_events_max_receives >= 1 && var.landing_events_max_receives <= 1000 && floor(var.landing_events_max_receives) == var.landing_events_max_receives
    error_message = "landing_events_max_receives must be a whole number from 1 to 1000, the SQS maxReceiveCount limits."
  }
}

# --- Production Dagster (modules/dagster) ---------------------------------------------------

variable "enable_dagster" {
  description = "Run Dagster itself in the platform: ECS Fargate (webserver, one daemon, code server, one task per run), RDS PostgreSQL, ECR, an internal ALB. Needs vpc_id and private_subnet_ids (two subnets in two AZs)."
  type        = bool
  default     = true
}

variable "dagster_image_tag" {
  description = "Tag of the Dagster image in ECR <project>-<environment>-dagster: the commit SHA the CodeBuild build pushed (TF_VAR_dagster_image_tag). A rollback re-applies with the previous tag."
  type        = string
  default     = "unset"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.dagster_image_tag)) && var.dagster_image_tag != "latest"
    error_message = "dagster_image_tag must be a Docker tag (the commit SHA), not \"latest\": the repository's tags are immutable."
  }
}

variable "dagster_db_instance_class" {
  description = "RDS instance class of the Dagster PostgreSQL database."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.dagster_db_instance_class))
    error_message = "dagster_db_instance_class must be an RDS instance class such as db.t4g.micro."
  }
}

variable "dagster_db_multi_az" {
  description = "Run the Dagster database Multi-AZ (doubles its instance cost)."
  type        = bool
  default     = false
}

variable "dagster_public_subnet_ids" {
  description = "Public subnets for the Dagster UI load balancer; used only when dagster_ui.public is true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.dagster_public_subnet_ids : can(regex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "dagster_public_subnet_ids must be subnet ids (subnet- followed by 8 or 17 hex digits)."
  }
}

variable "dagster_compute_logs_expiration_days" {
  description = "Days after which Dagster compute logs (run stdout/stderr in the artifacts bucket) expire."
  type        = number
  default     = 90

  validation {
    condition     = var.dagster_compute_logs_expiration_days >= 1 && floor(var.dagster_compute_logs_expiration_days) == var.dagster_compute_logs_expiration_days
    error_message = "dagster_compute_logs_expiration_days must be a whole number of days, at least 1."
  }
}

variable "dagster_ui" {
  description = "How the Dagster UI is reached: internal ALB by default (allowed_cidrs, HTTPS with certificate_arn); public = true only with certificate_arn and an oidc or cognito authenticate action. See modules/dagster/variables.tf."
  type = object({
    public          = optional(bool, false)
    certificate_arn = optional(string)
    allowed_cidrs   = optional(list(string), [])
    oidc = optional(object({
      issuer                 = string
      authorization_endpoint = string
      token_endpoint         = string
      user_info_endpoint     = string
      client_id              = string
    }))
    cognito = optional(object({
      user_pool_arn       = string
      user_pool_client_id = string
      user_pool_domain    = string
    }))
  })
  default = { public = false, certificate_arn = null, allowed_cidrs = [], oidc = null, cognito = null }

  validation {
    condition     = !var.dagster_ui.public || (var.dagster_ui.certificate_arn != null && (var.dagster_ui.oidc != null || var.dagster_ui.cognito != null))
    error_message = "dagster_ui must not be public without authentication: dagster_ui.public = true needs dagster_ui.certificate_arn and an authenticate action (oidc or cognito): the Dagster UI is never public without authentication."
  }
}

variable "dagster_ui_oidc_client_secret" {
  description = "Client secret of the OIDC provider of dagster_ui.oidc (sensitive)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.dagster_ui_oidc_client_secret == null || can(regex("^\\S{1,1024}$", var.dagster_ui_oidc_client_secret))
    error_message = "dagster_ui_oidc_client_secret must be null or the client secret (1-1024 characters, no spaces)."
  }
}

variable "analyst_trusted_principals" {
  description = "IAM principal ARNs (accounts, roles, users) allowed to assume the <project>-<environment>-analyst role. Empty: no role is created; attach the analyst policy (output analyst_policy_arn) to your own principals."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.analyst_trusted_principals : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", p))])
    error_message = "analyst_trusted_principals must hold IAM principal ARNs (arn:aws:iam::<12-digit account>:root, :role/<name> or :user/<name>)."
  }
}

variable "catalog_encryption_key_arn" {
  description = "KMS key ARN that encrypts the account's Glue Data Catalog when another environment's stack owns the catalog encryption (catalog_encryption_owner); analysts get kms:Decrypt on it. null: this stack's key is the catalog's, or the catalog is not encrypted."
  type        = string
  default     = null

  validation {
    condition     = var.catalog_encryption_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-f0-9-]+$", var.catalog_encryption_key_arn))
    error_message = "catalog_encryption_key_arn must be null or a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "enable_table_optimizers" {
  description = "Create the Glue Data Catalog table optimizers (compaction, snapshot retention, orphan file deletion) for every config table. The Glue jobs create the tables at their first commit, so set true only in an apply after every table's first batch has committed."
  type        = bool
  default     = false
}

variable "snapshot_retention_days" {
  description = "Table optimizer: days a superseded Iceberg snapshot is kept for time travel before retention expires it (the local `lake maintain` default is 7)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && floor(var.snapshot_retention_days) == var.snapshot_retention_days
    error_message = "snapshot_retention_days must be a whole number of days, at least 1."
  }
}

variable "orphan_file_retention_days" {
  description = "Table optimizer: age in days before an unreferenced file is deleted. A job's files are unreferenced until it commits and a job may run 2 days (MAX_JOB_TIMEOUT_MINUTES = 2880), so at least 3."
  type        = number
  default     = 3

  validation {
    condition     = var.orphan_file_retention_days >= 3 && floor(var.orphan_file_retention_days) == var.orphan_file_retention_days
    error_message = "orphan_file_retention_days must be a whole number of days, at least 3 (longer than the longest job timeout, 2 days)."
  }
}
