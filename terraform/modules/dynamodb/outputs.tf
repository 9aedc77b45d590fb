output "configs_table_name" {
  description = "Name of the configs table."
  value       = aws_dynamodb_table.configs.name
}

output "configs_table_arn" {
  description = "ARN of the configs table."
  value       = aws_dynamodb_table.configs.arn
}

output "partitions_table_name" {
  description = "Name of the partitions (batch registry) table."
  value       = aws_dynamodb_table.partitions.name
}

output "partitions_table_arn" {
  description = "ARN of the partitions table."
  value       = aws_dynamodb_table.partitions.arn
}

output "config_item_names" {
  description = "config_name of every item written to the configs table."
  value       = sort(keys(aws_dynamodb_table_item.config))
}
