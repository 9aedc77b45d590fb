variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\". At most 21 characters, so that the load balancer and target group names (\"<prefix>-dagster-ui\") fit ELB's 32."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name_prefix))
    error_message = "name_prefix must be 2-21 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\"); ELB names built from it are limited to 32 characters."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform CMK: RDS storage, Performance Insights, the RDS-managed master secret, ECR, log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "alerts_topic_arn" {
  description = "SNS topic receiving the daemon and webserver alarms."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alerts_topic_arn))
    error_message = "alerts_topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary set on every role of the module (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or an IAM managed policy ARN."
  }
}

variable "dagster_policy_arn" {
  description = "The platform's `dagster` IAM policy (terraform/iam.tf), attached to the Dagster task role."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.dagster_policy_arn))
    error_message = "dagster_policy_arn must be an IAM managed policy ARN."
  }
}

variable "extra_task_policy_arns" {
  description = "Further managed policies for the Dagster task role (e.g. the configs-writer policy), by a static key."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, arn in var.extra_task_policy_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", arn))])
    error_message = "extra_task_policy_arns must map keys to IAM managed policy ARNs."
  }
}

variable "vpc_id" {
  description = "VPC of the Dagster tasks, the database and the load balancer. Required: Dagster cannot run without one."
  type        = string

  validation {
    condition     = var.vpc_id != null && can(regex("^vpc-([0-9a-f]{8}|[0-9a-f]{17})$", var.vpc_id))
    error_message = "vpc_id must be set to a VPC id (vpc- followed by 8 or 17 hex digits) when enable_dagster is true: the Dagster tasks, RDS and the ALB live in a VPC. Set vpc_id and private_subnet_ids, or enable_dagster = false."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two, in two availability zones) for the tasks, runs, RDS and the internal ALB. They need a route to ECR, S3, CloudWatch Logs, ECS and the other AWS APIs (NAT or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "private_subnet_ids must list at least two subnet ids (subnet-...) in different availability zones when enable_dagster is true (RDS subnet groups and ALBs need two AZs)."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for the load balancer when ui.public is true (ignored otherwise)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.public_subnet_ids : can(regex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "public_subnet_ids must be subnet ids (subnet- followed by 8 or 17 hex digits)."
  }
}

variable "image_tag" {
  description = "Tag of the Dagster image in the module's ECR repository (the commit SHA the CodeBuild build pushed). Tags are immutable."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a Docker tag (letters, digits, _ . -, at most 128 characters) other than \"latest\": the repository's tags are immutable, deploy the commit SHA."
  }
}

variable "lake_environment" {
  description = "The platform's LAKE_* settings (the root lake_env output, name => value), set on every container."
  type        = map(string)

  validation {
    condition     = alltrue([for k, v in var.lake_environment : can(regex("^[A-Z][A-Z0-9_]*$", k)) && k != "DAGSTER_PG_PASSWORD"])
    error_message = "lake_environment must have upper-case environment variable names, and must not include DAGSTER_PG_PASSWORD (it reaches the containers only as an ECS secret)."
  }
}

variable "compute_logs_bucket" {
  description = "Existing KMS-encrypted bucket receiving the S3ComputeLogManager's logs (the artifacts bucket)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.compute_logs_bucket))
    error_message = "compute_logs_bucket must be an S3 bucket name."
  }
}

variable "compute_logs_bucket_arn" {
  description = "ARN of compute_logs_bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.compute_logs_bucket_arn))
    error_message = "compute_logs_bucket_arn must be an S3 bucket ARN."
  }
}

variable "compute_logs_prefix" {
  description = "Key prefix of the compute logs in compute_logs_bucket (ends with \"/\")."
  type        = string
  default     = "dagster-compute-logs/"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*/$", var.compute_logs_prefix))
    error_message = "compute_logs_prefix must be lower-case letters, digits, _ and - ending with \"/\"."
  }
}

variable "webserver" {
  description = "Fargate size of the webserver task: cpu units and memory MiB (a valid Fargate pair)."
  type        = object({ cpu = number, memory = number })
  default     = { cpu = 512, memory = 1024 }

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.webserver.cpu) && var.webserver.memory >= 512 && var.webserver.memory <= 30720
    error_message = "webserver must have cpu 256, 512, 1024, 2048 or 4096 and memory 512-30720 MiB (AWS rejects other Fargate pairs at apply)."
  }
}

variable "daemon" {
  description = "Fargate size of the daemon task: cpu units and memory MiB (a valid Fargate pair)."
  type        = object({ cpu = number, memory = number })
  default     = { cpu = 256, memory = 1024 }

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.daemon.cpu) && var.daemon.memory >= 512 && var.daemon.memory <= 30720
    error_message = "daemon must have cpu 256, 512, 1024, 2048 or 4096 and memory 512-30720 MiB (AWS rejects other Fargate pairs at apply)."
  }
}

variable "code" {
  description = "Fargate size of the code-location server task, which is also the size of every run task (runs use its task definition)."
  type        = object({ cpu = number, memory = number })
  default     = { cpu = 512, memory = 2048 }

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.code.cpu) && var.code.memory >= 512 && var.code.memory <= 30720
    error_message = "code must have cpu 256, 512, 1024, 2048 or 4096 and memory 512-30720 MiB (AWS rejects other Fargate pairs at apply)."
  }
}

variable "webserver_count" {
  description = "Number of webserver tasks (the daemon is always exactly one)."
  type        = number
  default     = 1

  validation {
    condition     = var.webserver_count >= 1 && var.webserver_count <= 4 && floor(var.webserver_count) == var.webserver_count
    error_message = "webserver_count must be a whole number from 1 to 4."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version of the run/event/schedule storage (RDS picks and upgrades the minor version)."
  type        = string
  default     = "16"

  validation {
    condition     = contains(["14", "15", "16", "17"], var.db_engine_version)
    error_message = "db_engine_version must be a PostgreSQL major version RDS offers: 14, 15, 16 or 17."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the Dagster database."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.micro or db.m7g.large."
  }
}

variable "db_allocated_storage_gb" {
  description = "Allocated gp3 storage of the database in GiB (storage autoscaling grows it up to 5x)."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 16384
    error_message = "db_allocated_storage_gb must be between 20 and 16384 (gp3 limits)."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated RDS backups (point-in-time recovery window); batch progress lives in this database."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35: the database holds batch progress, a lost instance re-runs the lake."
  }
}

variable "db_multi_az" {
  description = "Run the database Multi-AZ (a standby in a second AZ; doubles the instance cost)."
  type        = bool
  default     = false
}

variable "db_iam_auth" {
  description = "Enable IAM database authentication on the instance (operators may log in with IAM tokens; the containers use the RDS-managed password)."
  type        = bool
  default     = true
}

variable "db_skip_final_snapshot" {
  description = "Destroy the database without a final snapshot (throw-away environments only)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Deletion protection on the database and the load balancer."
  type        = bool
  default     = true
}

variable "ui" {
  description = <<-EOT
    How the Dagster UI is reached. public = false (default): an internal ALB in the private
    subnets, reachable from allowed_cidrs (VPN / Direct Connect) or through an SSM port-forward;
    HTTPS when certificate_arn is set, else plain HTTP inside the VPC. public = true: an
    internet-facing ALB in public_subnet_ids, only with certificate_arn and an OIDC or Cognito
    authenticate action (oidc or cognito); the validation refuses anything else.
  EOT
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
    condition     = !var.ui.public || (var.ui.certificate_arn != null && (var.ui.oidc != null || var.ui.cognito != null))
    error_message = "ui must not be public without authentication: ui.public = true needs ui.certificate_arn and an authenticate action (ui.oidc or ui.cognito): the Dagster UI is never public without authentication. Use the internal ALB (ui.public = false) or an SSM port-forward instead."
  }

  validation {
    condition     = var.ui.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/", var.ui.certificate_arn))
    error_message = "ui must have a null certificate_arn or or an ACM certificate ARN."
  }

  validation {
    condition     = alltrue([for c in var.ui.allowed_cidrs : try(cidrsubnet(c, 0, 0) == c, false) && c != "0.0.0.0/0"])
    error_message = "ui must list in allowed_cidrs only IPv4 CIDR blocks, not 0.0.0.0/0 (a public UI goes through ui.public with authentication)."
  }

  validation {
    condition     = !(var.ui.oidc != null && var.ui.cognito != null)
    error_message = "ui must set at most one of oidc and cognito (they are alternatives)."
  }
}

variable "ui_oidc_client_secret" {
  description = "Client secret of the OIDC identity provider (ui.oidc); kept out of the ui object so that it stays sensitive."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.ui_oidc_client_secret == null || can(regex("^\\S{1,1024}$", var.ui_oidc_client_secret))
    error_message = "ui_oidc_client_secret must be null or the client secret (1-1024 characters, no spaces)."
  }
}

variable "ui_access_logs_bucket" {
  description = "Bucket receiving the ALB access logs (its policy must admit ELB log delivery); null: no access logs."
  type        = string
  default     = null

  validation {
    condition     = var.ui_access_logs_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.ui_access_logs_bucket))
    error_message = "ui_access_logs_bucket must be null or an S3 bucket name."
  }
}

variable "log_retention_days" {
  description = "Retention in days of the Dagster log groups."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "ecr_keep_tagged_images" {
  description = "How many tagged images the ECR lifecycle policy keeps (rollback depth)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_tagged_images >= 2 && var.ecr_keep_tagged_images <= 1000
    error_message = "ecr_keep_tagged_images must be between 2 and 1000 (keep at least the previous image for a rollback)."
  }
}

variable "ecr_untagged_expiry_days" {
  description = "Days after which untagged images (failed or superseded pushes) expire."
  type        = number
  default     = 3

  validation {
    condition     = var.ecr_untagged_expiry_days >= 1 && var.ecr_untagged_expiry_days <= 365
    error_message = "ecr_untagged_expiry_days must be between 1 and 365."
  }
}

variable "tags" {
  description = "Tags on every resource of the module (the provider's default_tags add project and environment)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}

variable "enable_execute_command" {
  description = "ECS Exec on the webserver task, for the operators' SSM port-forward to the Dagster database."
  type        = bool
  default     = true
}
