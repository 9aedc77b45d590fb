# Three security groups. Tasks: reach the database, each other (gRPC 4000) and AWS APIs (443).
# Database: 5432 from the tasks' group only. Load balancer: the UI port from ui.allowed_cidrs
# (internal) or the internet (public, behind the authenticate action), and 3000 to the tasks.

resource "aws_security_group" "tasks" {
  name        = "${var.name_prefix}-dagster-tasks"
  description = "Dagster webserver, daemon, code server and run tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "database" {
  name        = "${var.name_prefix}-dagster-db"
  description = "Dagster PostgreSQL: only the Dagster tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_security_group" "alb" {
  name        = "${var.name_prefix}-dagster-ui"
  description = "Dagster UI load balancer"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "database_from_tasks" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the Dagster tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_database" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "PostgreSQL"
  referenced_security_group_id = aws_security_group.database.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "tasks_grpc" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Code location gRPC from the webserver, daemon and runs"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 4000
  to_port                      = 4000
}

resource "aws_vpc_security_group_egress_rule" "tasks_grpc" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Code location gRPC"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 4000
  to_port                      = 4000
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "AWS APIs, ECR and S3 over HTTPS (NAT or VPC endpoints)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Dagster UI from the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Dagster webserver"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = 3000
  to_port                      = 3000
}

# Public ALBs reach the identity provider's token and user-info endpoints.
resource "aws_vpc_security_group_egress_rule" "alb_to_idp" {
  count             = var.ui.public ? 1 : 0
  security_group_id = aws_security_group.alb.id
  description       = "OIDC / Cognito endpoints of the authenticate action"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_clients" {
  for_each          = toset(var.ui.public ? ["0.0.0.0/0"] : var.ui.allowed_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = var.ui.public ? "Dagster UI (authenticate action in front)" : "Dagster UI from the internal network"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = local.ui_port
  to_port           = local.ui_port
}
