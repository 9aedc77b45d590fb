# One task definition per service, all from the same image. The code location's task definition
# is also the one every run uses (EcsRunLauncher task_definition = DAGSTER_RUN_TASK_DEFINITION,
# container "code"), so runs get the code task role and the same environment.

resource "aws_ecs_task_definition" "dagster" {
  #checkov:skip=CKV_AWS_336:Dagster writes to DAGSTER_HOME and temp files at run time (instance storage, compute log staging); a read-only root filesystem would need volumes for each.
  for_each                 = local.services
  family                   = "${var.name_prefix}-dagster-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(local.sizes[each.key].cpu)
  memory                   = tostring(local.sizes[each.key].memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name        = each.key
      image       = local.image
      essential   = true
      command     = local.commands[each.key]
      environment = [for name in sort(keys(local.container_environment)) : { name = name, value = local.container_environment[name] }]
      secrets     = [for name in sort(keys(local.container_secrets)) : { name = name, valueFrom = local.container_secrets[name] }]
      portMappings = each.key == "daemon" ? [] : [
        { containerPort = each.key == "webserver" ? 3000 : 4000, protocol = "tcp" }
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.dagster[each.key].name
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
        }
      }
    }
  ])

  tags = var.tags
}

resource "aws_ecs_service" "webserver" {
  name                               = "webserver"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster["webserver"].arn
  desired_count                      = var.webserver_count
  launch_type                        = "FARGATE"
  # ECS Exec: the operators' port-forward to RDS goes through this task (the only route the
  # database's security group admits besides the other Dagster tasks).
  enable_execute_command = var.enable_execute_command
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  health_check_grace_period_seconds  = 120
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.webserver.arn
    container_name   = "webserver"
    container_port   = 3000
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  depends_on = [aws_lb_listener.ui]
  tags       = var.tags
}

# Exactly one daemon, ever: a deploy stops the old task (minimum 0 %) before starting the new one
# (maximum 100 % of one task), so two daemons never evaluate the same schedule tick.
resource "aws_ecs_service" "daemon" {
  name                               = "daemon"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster["daemon"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = var.tags
}

resource "aws_ecs_service" "code" {
  name                               = "code"
  cluster                            = aws_ecs_cluster.dagster.id
  task_definition                    = aws_ecs_task_definition.dagster["code"].arn
  desired_count                      = 1
  launch_type                        = "FARGATE"
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  service_registries {
    registry_arn = aws_service_discovery_service.code.arn
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = var.tags
}
