variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name_prefix))
    error_message = "name_prefix must be 2-32 lower-case letters, digits and dashes, starting with a letter (\"<project>-<environment>\")."
  }
}

variable "vpc_id" {
  description = "Id of the VPC the Glue jobs run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-([0-9a-f]{8}|[0-9a-f]{17})$", var.vpc_id))
    error_message = "vpc_id must be a VPC id (vpc- followed by 8 or 17 hex digits); the root module requires it when enable_vpc is true."
  }
}

variable "subnet_ids" {
  description = "Private subnet ids for the Glue connection; the first one is used (a Glue connection has one subnet)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for id in var.subnet_ids : can(regex("^subnet-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "subnet_ids must list at least one subnet id (subnet- followed by 8 or 17 hex digits); the root module requires them when enable_vpc is true."
  }
}

variable "route_table_ids" {
  description = "Route tables of the private subnets, for the S3 and DynamoDB gateway endpoints."
  type        = list(string)

  validation {
    condition     = alltrue([for id in var.route_table_ids : can(regex("^rtb-([0-9a-f]{8}|[0-9a-f]{17})$", id))])
    error_message = "route_table_ids must be route table ids (rtb- followed by 8 or 17 hex digits)."
  }
}

variable "on_premise_cidrs" {
  description = "CIDR blocks of the on-premise networks (reached over Direct Connect / VPN) that hold JDBC sources."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.on_premise_cidrs : can(cidrnetmask(c)) && try(cidrsubnet(c, 0, 0) == c, false)])
    error_message = "on_premise_cidrs must be IPv4 CIDR blocks in canonical form (network address with prefix length, e.g. 10.20.0.0/16)."
  }
}

variable "https_egress_cidrs" {
  description = "CIDR blocks reachable on 443 for AWS APIs without gateway endpoints (Glue, Logs, KMS, STS, PyPI for --additional-python-modules), e.g. the VPC CIDR for interface endpoints or 0.0.0.0/0 through a NAT gateway."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.https_egress_cidrs : can(cidrnetmask(c)) && try(cidrsubnet(c, 0, 0) == c, false)])
    error_message = "https_egress_cidrs must be IPv4 CIDR blocks in canonical form (network address with prefix length, e.g. 10.20.0.0/16)."
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
  description = "JDBC URL of the on-premise source; null creates a NETWORK connection instead of a JDBC one."
  type        = string
  default     = null

  validation {
    condition     = var.jdbc_url == null || can(regex("^jdbc:[a-z][a-z0-9]*:.+$", var.jdbc_url))
    error_message = "jdbc_url must be null or a JDBC URL starting with jdbc:<subprotocol>: (e.g. jdbc:postgresql://host:5432/db)."
  }
}

variable "jdbc_secret_id" {
  description = "Secrets Manager secret (name or ARN) holding the JDBC username and password."
  type        = string
  default     = null

  validation {
    condition     = var.jdbc_secret_id == null || can(regex("^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$", var.jdbc_secret_id))
    error_message = "jdbc_secret_id must be null, a Secrets Manager secret name (letters, digits and /_+=.@-) or a secret ARN."
  }
}

variable "tags" {
  description = "Tags added to the network resources."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags must have keys of at most 128 characters that do not start with \"aws:\", and values of at most 256 characters."
  }
}
