output "state_machine_arn" {
  description = "ARN of the Glue runner state machine."
  value       = aws_sfn_state_machine.glue_runner.arn
}

output "state_machine_name" {
  description = "Name of the Glue runner state machine."
  value       = aws_sfn_state_machine.glue_runner.name
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's execution role."
  value       = aws_iam_role.state_machine.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the state machine executions."
  value       = aws_cloudwatch_log_group.state_machine.name
}
