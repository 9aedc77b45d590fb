output "alerts_topic_arn" {
  description = "ARN of the SNS alert topic."
  value       = aws_sns_topic.alerts.arn
}

output "glue_failure_rule_name" {
  description = "Name of the EventBridge rule for failed Glue job runs."
  value       = aws_cloudwatch_event_rule.glue_job_failed.name
}
