# Optional VPC integration, created only when the root module sets enable_vpc:
#   - a self-referencing security group (Glue workers must reach each other on all ports),
#   - S3 and DynamoDB gateway endpoints on the private route tables (no NAT data charges, and
#     traffic to the lake stays on the AWS network),
#   - a Glue connection: JDBC (credentials in Secrets Manager) for on-premise databases reached
#     over Direct Connect / VPN, or NETWORK when only VPC placement is wanted.

data "aws_region" "current" {}

locals {
  # Gateway endpoints (service name suffix => display name) and their security group egress.
  gateway_endpoints = {
    s3       = "S3"
    dynamodb = "DynamoDB"
  }
}

data "aws_subnet" "glue" {
  id = var.subnet_ids[0]
}

resource "aws_security_group" "glue" {
  #checkov:skip=CKV2_AWS_5:Attached through the Glue connection (physical_connection_requirements.security_group_id_list), which checkov does not follow.
  name        = "${var.name_prefix}-glue"
  description = "Glue job workers of ${var.name_prefix}: self-referencing, egress only to the VPC endpoints, the on-premise sources and HTTPS"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-glue" })
}

resource "aws_vpc_security_group_ingress_rule" "self" {
  #checkov:skip=CKV_AWS_24:False positive: the source is the security group itself (referenced_security_group_id), not 0.0.0.0/0.
  #checkov:skip=CKV_AWS_25:False positive: the source is the security group itself (referenced_security_group_id), not 0.0.0.0/0.
  #checkov:skip=CKV_AWS_260:False positive: the source is the security group itself (referenced_security_group_id), not 0.0.0.0/0.
  security_group_id            = aws_security_group.glue.id
  description                  = "Glue requires all TCP between workers of the same job"
  referenced_security_group_id = aws_security_group.glue.id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
}

resource "aws_vpc_security_group_egress_rule" "self" {
  security_group_id            = aws_security_group.glue.id
  description                  = "Glue requires all TCP between workers of the same job"
  referenced_security_group_id = aws_security_group.glue.id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
}

resource "aws_vpc_security_group_egress_rule" "gateway_endpoint" {
  for_each          = local.gateway_endpoints
  security_group_id = aws_security_group.glue.id
  description       = "HTTPS to ${each.value} through the gateway endpoint"
  prefix_list_id    = aws_vpc_endpoint.gateway[each.key].prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each          = toset(var.https_egress_cidrs)
  security_group_id = aws_security_group.glue.id
  description       = "HTTPS to AWS APIs without gateway endpoints (Glue, CloudWatch Logs, KMS, STS) via NAT or interface endpoints"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "on_premise" {
  for_each          = toset(var.on_premise_cidrs)
  security_group_id = aws_security_group.glue.id
  description       = "JDBC to on-premise sources over Direct Connect / VPN"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.jdbc_port
  to_port           = var.jdbc_port
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = local.gateway_endpoints
  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.route_table_ids
  tags              = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })
}

resource "aws_glue_connection" "this" {
  name            = "${var.name_prefix}-${var.jdbc_url == null ? "network" : "jdbc"}"
  description     = var.jdbc_url == null ? "Runs the platform's Glue jobs inside the VPC" : "On-premise JDBC source reached over Direct Connect / VPN"
  connection_type = var.jdbc_url == null ? "NETWORK" : "JDBC"

  connection_properties = var.jdbc_url == null ? {} : {
    JDBC_CONNECTION_URL = var.jdbc_url
    JDBC_ENFORCE_SSL    = "true"
    SECRET_ID           = var.jdbc_secret_id
  }

  physical_connection_requirements {
    availability_zone      = data.aws_subnet.glue.availability_zone
    subnet_id              = data.aws_subnet.glue.id
    security_group_id_list = [aws_security_group.glue.id]
  }

  tags = var.tags
}

moved {
  from = aws_vpc_endpoint.s3
  to   = aws_vpc_endpoint.gateway["s3"]
}

moved {
  from = aws_vpc_endpoint.dynamodb
  to   = aws_vpc_endpoint.gateway["dynamodb"]
}

moved {
  from = aws_vpc_security_group_egress_rule.s3
  to   = aws_vpc_security_group_egress_rule.gateway_endpoint["s3"]
}

moved {
  from = aws_vpc_security_group_egress_rule.dynamodb
  to   = aws_vpc_security_group_egress_rule.gateway_endpoint["dynamodb"]
}
