# Two on-demand tables:
#   configs     one item per configs/*.json (git is the source of truth; Terraform writes them)
#   partitions  the partition registry: one item per (table, batch) with its status

resource "aws_dynamodb_table" "configs" {
  name                        = "${var.name_prefix}-configs"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "config_name"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "config_name"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "partitions" {
  name                        = "${var.name_prefix}-partitions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "table_id" # "<config_name>.<table_name>"
  range_key                   = "batch_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "table_id"
    type = "S"
  }

  attribute {
    name = "batch_id"
    type = "S"
  }

  # No secondary index: every read is by table_id (and batch_id). A status index was never
  # queried, and with projection ALL it copied the large file lists on every write.

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# The Python DynamoDB config store reads `body` (the whole JSON document) and `config_name`.
resource "aws_dynamodb_table_item" "config" {
  for_each   = var.configs
  table_name = aws_dynamodb_table.configs.name
  hash_key   = aws_dynamodb_table.configs.hash_key

  item = jsonencode({
    config_name = { S = each.key }
    config_type = { S = each.value.config_type }
    etl_job     = { S = each.value.etl_job }
    body        = { S = each.value.body }
  })
}
