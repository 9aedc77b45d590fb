variable "name_prefix" {
  description = "Prefix of every resource name, \"<project>-<environment>\"."
  type        = string
}

variable "vpc_id" {
  description = "Id of the VPC the Glue jobs run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet ids for the Glue connection; the first one is used (a Glue connection has one subnet)."
  type        = list(string)
}

variable "route_table_ids" {
  description = "Route tables of the private subnets, for the S3 and DynamoDB gateway endpoints."
  type        = list(string)
}

variable "on_premise_cidrs" {
  description = "CIDR blocks of the on-premise networks (reached over Direct Connect / VPN) that hold JDBC sources."
  type        = list(string)
  default     = []
}

variable "https_egress_cidrs" {
  description = "CIDR blocks reachable on 443 for AWS APIs without gateway endpoints (Glue, Logs, KMS, STS, PyPI for --additional-python-modules), e.g. the VPC CIDR for interface endpoints or 0.0.0.0/0 through a NAT gateway."
  type        = list(string)
  default     = []
}

variable "jdbc_port" {
  description = "TCP port of the on-premise JDBC sources."
  type        = number
  default     = 5432
}

variable "jdbc_url" {
  description = "JDBC URL of the on-premise source; null creates a NETWORK connection instead of a JDBC one."
  type        = string
  default     = null
}

variable "jdbc_secret_id" {
  description = "Secrets Manager secret (name or ARN) holding the JDBC username and password."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the network resources."
  type        = map(string)
  default     = {}
}
