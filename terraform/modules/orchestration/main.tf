# The platform state machine: Dagster starts one execution per Glue job run. The execution
# runs the job with glue:startJobRun.sync, retries transient Glue errors with backoff, and on
# any other failure publishes to SNS (NotifyFailure, the one alert for a failed run) and fails
# with the Glue error and cause.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  glue_job_arns = [
    for name in var.glue_job_names : "arn:${local.partition}:glue:${local.region}:${local.account_id}:job/${name}"
  ]
}

resource "aws_cloudwatch_log_group" "state_machine" {
  #checkov:skip=CKV_AWS_338:Execution logs are operational, not audit records; retention is a variable (default 90 days) to keep CloudWatch storage cost low.
  # The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small.
  name              = "/aws/vendedlogs/states/${var.name_prefix}-glue-runner"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name                 = "${var.name_prefix}-sfn-glue-runner"
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  tags                 = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid = "RunPlatformGlueJobs"
    actions = [
      "glue:StartJobRun",
      "glue:GetJobRun",
      "glue:GetJobRuns",
      "glue:BatchStopJobRun",
    ]
    resources = local.glue_job_arns
  }

  statement {
    sid       = "PublishFailures"
    actions   = ["sns:Publish"]
    resources = [var.sns_topic_arn]
  }

  statement {
    sid       = "UseEncryptedTopicAndLogs"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  # CloudWatch Logs vended-log delivery APIs do not support resource-level permissions, so
  # AWS documents Resource "*" for them (Step Functions logging to CloudWatch Logs).
  statement {
    sid = "ExecutionLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  # X-Ray trace APIs do not support resource-level permissions either.
  statement {
    sid = "XRayTracing"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "run-glue-jobs"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_sfn_state_machine" "glue_runner" {
  name     = "${var.name_prefix}-glue-runner"
  type     = "STANDARD" # .sync service integrations need a STANDARD state machine
  role_arn = aws_iam_role.state_machine.arn
  definition = templatefile("${path.module}/state_machine.asl.json", {
    sns_topic_arn = var.sns_topic_arn
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = var.log_execution_data
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = var.xray_tracing
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}

# Executions that time out as a whole. NotifyFailure already alerts, with the batch context, on
# every failure RunGlueJob's Catch sees (a Glue run that hits its own Timeout included), so an
# ExecutionsFailed alarm would only repeat that alert. An execution-level timeout ends the
# execution without running any Catch; the ASL sets no top-level TimeoutSeconds, so today that is
# only the one-year limit of a STANDARD execution, and this alarm is the net for it. It stays a
# for_each map (one key) so its address is the one existing states already hold.
resource "aws_cloudwatch_metric_alarm" "executions" {
  for_each = {
    "timed-out" = { metric_name = "ExecutionsTimedOut", outcome = "timed out" }
  }

  alarm_name          = "${var.name_prefix}-glue-runner-executions-${each.key}"
  alarm_description   = "At least one execution of the Glue runner state machine ${each.value.outcome}."
  namespace           = "AWS/States"
  metric_name         = each.value.metric_name
  dimensions          = { StateMachineArn = aws_sfn_state_machine.glue_runner.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.sns_topic_arn]
  tags                = var.tags
}

# The ExecutionsFailed alarm (executions_failed, then executions["failed"]) is deleted; with no
# moved block its state entry, under either address, is destroyed on the next apply.
moved {
  from = aws_cloudwatch_metric_alarm.executions_timed_out
  to   = aws_cloudwatch_metric_alarm.executions["timed-out"]
}
