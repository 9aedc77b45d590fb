# CodeBuild (buildspec.yml) runs: terraform plan -var-file=environments/dev.tfvars, with
# TF_VAR_project, TF_VAR_environment and TF_VAR_permissions_boundary_arn from the seed stack.
# project and environment are deliberately NOT set here: a -var-file value beats TF_VAR_*, so
# the seed's ProjectName/Environment (which its IAM is scoped to) must be the only source.
# By hand: TF_VAR_environment=dev terraform plan -var-file=environments/dev.tfvars
aws_region = "eu-west-1"

tags = {
  owner       = "data-platform"
  cost_center = "analytics"
}

# Throw-away environment: allow destroy to empty buckets and drop tables.
force_destroy       = true
deletion_protection = false

raw_transition_to_ia_days         = 30
raw_transition_to_glacier_ir_days = 90
athena_results_expiration_days    = 3
pipes_expiration_days             = 7
log_retention_days                = 30

glue_execution_class                  = "FLEX"
glue_max_concurrent_runs              = 5
athena_bytes_scanned_cutoff_per_query = 1073741824 # 1 GiB per query

alert_emails = ["data-platform-alerts@example.com"]

dagster_role_name        = null
dagster_can_push_configs = true

# Optional VPC placement of the Glue jobs (on-premise JDBC over Direct Connect / VPN).
enable_vpc              = false
vpc_id                  = null
private_subnet_ids      = []
private_route_table_ids = []
on_premise_cidrs        = []
https_egress_cidrs      = []
jdbc_url                = null
jdbc_secret_arn         = null

# Production Dagster (modules/dagster): on by default. It needs vpc_id and private_subnet_ids
# above (two private subnets in two AZs with a route to ECR, S3, CloudWatch Logs and ECS: NAT or
# VPC endpoints); plan stops with a validation error naming vpc_id until they are set. The image
# tag comes from the build (TF_VAR_dagster_image_tag = the commit SHA).
enable_dagster = true
dagster_ui = {
  public          = false
  certificate_arn = null # an ACM certificate makes the internal listener HTTPS
  allowed_cidrs   = []   # e.g. the VPN / Direct Connect ranges that may open the internal UI
  oidc            = null
  cognito         = null
}
