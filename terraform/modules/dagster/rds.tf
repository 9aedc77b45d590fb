# Run, event-log and schedule storage. Batch progress lives here: a lost database makes the
# catch-up schedules re-run every batch, so it is encrypted, backed up, deletion-protected and
# reachable only from the Dagster tasks' security group. RDS manages the master password in
# Secrets Manager (encrypted with the platform key); the containers get it as an ECS secret.

resource "aws_db_subnet_group" "dagster" {
  name        = "${var.name_prefix}-dagster"
  description = "Private subnets of the Dagster database."
  subnet_ids  = var.private_subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "dagster" {
  name_prefix = "${var.name_prefix}-dagster-"
  family      = "postgres${var.db_engine_version}"
  description = "Dagster database: TLS only, statement logging of DDL."

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "5000"
  }

  lifecycle {
    create_before_destroy = true
  }

  tags = var.tags
}

resource "aws_db_instance" "dagster" {
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs its own IAM role for a db.t4g.micro; Performance Insights and CloudWatch metrics cover the Dagster database.
  #checkov:skip=CKV_AWS_157:Multi-AZ is the db_multi_az variable (it doubles the instance cost); automated backups with point-in-time recovery protect the data either way.
  identifier     = "${var.name_prefix}-dagster"
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name  = "dagster"
  username = "dagster"
  # RDS generates and rotates the password in Secrets Manager; Terraform never sees it.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_allocated_storage_gb * 5
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.dagster.name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.dagster.name
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  port                   = 5432

  iam_database_authentication_enabled = var.db_iam_auth
  auto_minor_version_upgrade          = true
  copy_tags_to_snapshot               = true
  backup_retention_period             = var.db_backup_retention_days
  backup_window                       = "02:00-03:00"
  maintenance_window                  = "sun:03:30-sun:04:30"
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = var.db_skip_final_snapshot
  final_snapshot_identifier           = var.db_skip_final_snapshot ? null : "${var.name_prefix}-dagster-final"
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7

  tags = var.tags
}
