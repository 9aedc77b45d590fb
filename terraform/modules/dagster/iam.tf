# Two roles. The execution role is ECS's own (pull the image, write the logs, read the database
# secret). The task role is Dagster's: the webserver, the daemon, the code server and every run
# task share it, because runs are launched from the code task definition and the webserver and
# the daemon both launch runs. It carries the platform's `dagster` policy and the run launcher's
# ECS calls.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name_prefix}-dagster-execution"
  description          = "ECS task execution role of the Dagster services and runs."
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullDagsterImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.dagster.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for g in aws_cloudwatch_log_group.dagster : "${g.arn}:*"]
  }

  statement {
    sid       = "ReadDatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.dagster.master_user_secret[0].secret_arn]
  }

  # The RDS-managed secret and the ECR layers are encrypted with the platform key.
  statement {
    sid       = "DecryptWithPlatformKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                 = "${var.name_prefix}-dagster-task"
  description          = "Dagster webserver, daemon, code server and run tasks."
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "task_dagster" {
  role       = aws_iam_role.task.name
  policy_arn = var.dagster_policy_arn
}

resource "aws_iam_role_policy_attachment" "task_extra" {
  for_each   = var.extra_task_policy_arns
  role       = aws_iam_role.task.name
  policy_arn = each.value
}

# What dagster_aws/ecs/launcher.py (0.29.27) calls with task_definition set and
# use_current_ecs_task_config left true: DescribeTaskDefinition (at start-up and per launch),
# DescribeTasks on its own task and on runs, ec2 DescribeNetworkInterfaces (the current task's
# subnets and security groups), RunTask with tags, StopTask on termination. It never registers a
# task definition when one is given. ListSecrets: the default secrets_tag "dagster" lists tagged
# secrets at launch.
data "aws_iam_policy_document" "run_launcher" {
  statement {
    sid       = "RunTasksFromTheCodeTaskDefinition"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.code_family}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.dagster.arn]
    }
  }

  statement {
    sid       = "WatchAndStopRuns"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.dagster.arn]
    }
  }

  statement {
    sid       = "TagRunsAtLaunch"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  # DescribeTaskDefinition and DescribeNetworkInterfaces take no resource ARN (policy_sentry);
  # ListSecrets neither.
  # ECS Exec on the webserver task (enable_execute_command): the SSM agent in the task opens its
  # channels with the task role. Operators tunnel to RDS through it (README, "Operating production
  # from a laptop"). ssmmessages actions take no resource ARN (policy_sentry).
  statement {
    sid       = "EcsExecChannels"
    actions   = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
    resources = ["*"]
  }

  statement {
    sid       = "ResourcelessReads"
    actions   = ["ecs:DescribeTaskDefinition", "ec2:DescribeNetworkInterfaces", "secretsmanager:ListSecrets"]
    resources = ["*"]
  }

  statement {
    sid       = "PassTheTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # S3ComputeLogManager: exactly its prefix.
  statement {
    sid       = "ListComputeLogs"
    actions   = ["s3:ListBucket"]
    resources = [var.compute_logs_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.compute_logs_prefix}*"]
    }
  }

  statement {
    sid       = "ReadWriteComputeLogs"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.compute_logs_bucket_arn}/${var.compute_logs_prefix}*"]
  }

  statement {
    sid       = "ComputeLogsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "run_launcher" {
  name   = "run-launcher"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.run_launcher.json
}
