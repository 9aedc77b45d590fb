# Event-driven landing: the raw bucket's "Object Created" events under landing/ reach an SQS
# queue through EventBridge; Dagster's landing_queue_sensor consumes it in bounded batches and
# deletes a message only after the batch is registered. Unreadable messages move to the
# dead-letter queue after landing_events_max_receives receives, and an alarm reports them.

resource "aws_sqs_queue" "landing_events_dlq" {
  name                      = "${local.name_prefix}-landing-events-dlq"
  kms_master_key_id         = module.kms.key_arn
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "landing_events" {
  name                       = "${local.name_prefix}-landing-events"
  kms_master_key_id          = module.kms.key_arn
  visibility_timeout_seconds = 120
  message_retention_seconds  = var.landing_events_retention_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.landing_events_dlq.arn
    maxReceiveCount     = var.landing_events_max_receives
  })
}

# Only batch markers: the sensor acts on <table prefix>/<batch id>/_SUCCESS alone (it lists the
# batch's files then), so forwarding data-file events would only cost queue traffic.
resource "aws_cloudwatch_event_rule" "landing_object_created" {
  name        = "${local.name_prefix}-landing-object-created"
  description = "Batch markers (_SUCCESS) created under landing/ in the raw bucket, for the landing queue."
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created"]
    detail = {
      bucket = { name = [module.storage.raw_bucket] }
      object = { key = [{ wildcard = "landing/*/_SUCCESS" }] }
    }
  })
}

resource "aws_cloudwatch_event_target" "landing_queue" {
  rule      = aws_cloudwatch_event_rule.landing_object_created.name
  target_id = "landing-queue"
  arn       = aws_sqs_queue.landing_events.arn
}

data "aws_iam_policy_document" "landing_events_queue" {
  statement {
    sid       = "EventBridgeLandingRuleSends"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.landing_events.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.landing_object_created.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.landing_events.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "landing_events" {
  queue_url = aws_sqs_queue.landing_events.id
  policy    = data.aws_iam_policy_document.landing_events_queue.json
}

resource "aws_cloudwatch_metric_alarm" "landing_events_dead_letters" {
  alarm_name          = "${local.name_prefix}-landing-events-dead-letters"
  alarm_description   = "Landing events that the landing_queue_sensor could not read are in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.landing_events_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [module.monitoring.alerts_topic_arn]
}
