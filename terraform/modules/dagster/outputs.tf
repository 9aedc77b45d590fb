output "cluster_name" {
  description = "ECS cluster running the Dagster services and runs."
  value       = aws_ecs_cluster.dagster.name
}

output "ecr_repository_url" {
  description = "ECR repository the build pushes the image to (tag = commit SHA)."
  value       = aws_ecr_repository.dagster.repository_url
}

output "ui_url" {
  description = "URL of the Dagster UI (internal ALB unless ui.public)."
  value       = "${local.ui_https ? "https" : "http"}://${aws_lb.ui.dns_name}"
}

output "code_server_host" {
  description = "Cloud Map name of the code-location gRPC server (port 4000)."
  value       = "code.${local.namespace}"
}

output "run_task_definition_family" {
  description = "Task definition family every run uses (DAGSTER_RUN_TASK_DEFINITION)."
  value       = local.code_family
}

output "task_role_arn" {
  description = "IAM role of the Dagster tasks (carries the platform's dagster policy)."
  value       = aws_iam_role.task.arn
}

output "tasks_security_group_id" {
  description = "Security group of the Dagster tasks (runs use it too)."
  value       = aws_security_group.tasks.id
}

output "db_endpoint" {
  description = "Address of the Dagster PostgreSQL instance (the password stays in Secrets Manager)."
  value       = aws_db_instance.dagster.address
}

output "db_secret_arn" {
  description = "ARN of the RDS-managed master user secret (an ARN, not the password)."
  value       = aws_db_instance.dagster.master_user_secret[0].secret_arn
}

output "container_environment" {
  description = "Plain environment of every Dagster container (no secret in it)."
  value       = local.container_environment
}

output "db_name" {
  description = "Database of the Dagster storage (DAGSTER_PG_DB)."
  value       = aws_db_instance.dagster.db_name
}

output "db_user" {
  description = "Master user of the Dagster database (DAGSTER_PG_USER); its password stays in the secret."
  value       = aws_db_instance.dagster.username
}
