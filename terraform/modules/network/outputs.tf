output "glue_connection_name" {
  description = "Name of the Glue connection the jobs attach to."
  value       = aws_glue_connection.this.name
}

output "security_group_id" {
  description = "Id of the Glue workers' self-referencing security group."
  value       = aws_security_group.glue.id
}

output "s3_endpoint_id" {
  description = "Id of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.gateway["s3"].id
}

output "dynamodb_endpoint_id" {
  description = "Id of the DynamoDB gateway endpoint."
  value       = aws_vpc_endpoint.gateway["dynamodb"].id
}
