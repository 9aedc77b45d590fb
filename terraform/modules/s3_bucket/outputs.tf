output "id" {
  description = "Name of the bucket."
  # The bucket argument (= the id) is known at plan time even before the bucket exists, so
  # callers can use it where Terraform needs a known value (the access_log_bucket null test of
  # another instance's logging count), and it still makes them wait for the bucket.
  value = aws_s3_bucket.this.bucket
}

output "arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}
