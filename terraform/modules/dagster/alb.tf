# The UI is never public without authentication. Internal ALB by default (private subnets);
# HTTPS when ui.certificate_arn is set, else plain HTTP that never leaves the VPC. A public ALB
# exists only with a certificate and an OIDC or Cognito authenticate action (ui validation).

locals {
  ui_https = var.ui.certificate_arn != null
  ui_port  = local.ui_https ? 443 : 80
}

resource "aws_lb" "ui" {
  #checkov:skip=CKV2_AWS_28:WAF is a per-organisation choice; the ALB is internal by default and a public one always authenticates first.
  #checkov:skip=CKV_AWS_91:Access logs go to ui_access_logs_bucket when set; the platform's access-log bucket admits only S3 server access logs today.
  name                       = "${var.name_prefix}-dagster-ui"
  internal                   = !var.ui.public
  load_balancer_type         = "application"
  subnets                    = var.ui.public ? var.public_subnet_ids : var.private_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  dynamic "access_logs" {
    for_each = var.ui_access_logs_bucket == null ? [] : [var.ui_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = "alb/${var.name_prefix}-dagster-ui"
      enabled = true
    }
  }

  lifecycle {
    precondition {
      condition     = !var.ui.public || length(var.public_subnet_ids) >= 2
      error_message = "ui.public = true needs public_subnet_ids (two or more) for the internet-facing load balancer."
    }
  }

  tags = var.tags
}

resource "aws_lb_target_group" "webserver" {
  name        = "${var.name_prefix}-dagster-ui"
  port        = 3000
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # dagster-webserver answers /server_info once the workspace is loaded.
  health_check {
    path                = "/server_info"
    matcher             = "200"
    interval            = 30
    timeout             = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  deregistration_delay = 30
  tags                 = var.tags
}

resource "aws_lb_listener" "ui" {
  #checkov:skip=CKV_AWS_2:Plain HTTP only without ui.certificate_arn, and then only on the internal ALB (ui validation: a public ALB needs a certificate).
  #checkov:skip=CKV_AWS_103:TLS 1.2+ is set by ssl_policy whenever the listener is HTTPS.
  #checkov:skip=CKV2_AWS_20:No port-80 listener redirects: the ALB has a single listener, HTTPS when a certificate is given.
  load_balancer_arn = aws_lb.ui.arn
  port              = local.ui_port
  protocol          = local.ui_https ? "HTTPS" : "HTTP"
  ssl_policy        = local.ui_https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.ui.certificate_arn

  dynamic "default_action" {
    for_each = var.ui.oidc == null ? [] : [var.ui.oidc]
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                 = default_action.value.issuer
        authorization_endpoint = default_action.value.authorization_endpoint
        token_endpoint         = default_action.value.token_endpoint
        user_info_endpoint     = default_action.value.user_info_endpoint
        client_id              = default_action.value.client_id
        client_secret          = var.ui_oidc_client_secret
      }
    }
  }

  dynamic "default_action" {
    for_each = var.ui.cognito == null ? [] : [var.ui.cognito]
    content {
      type  = "authenticate-cognito"
      order = 1
      authenticate_cognito {
        user_pool_arn       = default_action.value.user_pool_arn
        user_pool_client_id = default_action.value.user_pool_client_id
        user_pool_domain    = default_action.value.user_pool_domain
      }
    }
  }

  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.webserver.arn
  }

  tags = var.tags
}
