# Alerts to the platform's topic: no daemon means no schedule, sensor or run queue at all; an
# unhealthy webserver means no UI.

resource "aws_cloudwatch_metric_alarm" "daemon_not_running" {
  alarm_name          = "${var.name_prefix}-dagster-daemon-not-running"
  alarm_description   = "The Dagster daemon service has no running task: schedules, sensors and the run queue are stopped."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = aws_ecs_cluster.dagster.name, ServiceName = aws_ecs_service.daemon.name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webserver_unhealthy" {
  alarm_name          = "${var.name_prefix}-dagster-webserver-unhealthy"
  alarm_description   = "A Dagster webserver target fails its /server_info health check."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.ui.arn_suffix, TargetGroup = aws_lb_target_group.webserver.arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webserver_down" {
  alarm_name          = "${var.name_prefix}-dagster-webserver-down"
  alarm_description   = "No healthy Dagster webserver behind the UI load balancer."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.ui.arn_suffix, TargetGroup = aws_lb_target_group.webserver.arn_suffix }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]
  tags                = var.tags
}
