# Glue: one job per DISTINCT etl_job named in configs/*.json, its script and the shared
# lake_glue package in the artifacts bucket, the security configuration, the job log group and
# one Data Catalog database per config (target.database).
#
# Glue job names are account-wide, so the job of etl_job X is named <project>-<environment>-X
# (local.glue_job_prefix); Dagster reads the prefix from LAKE_GLUE_JOB_PREFIX (output lake_env)
# and passes prefix + etl_job as JobName to the state machine. The script of etl_job X is glue_scripts/<X, '-' -> '_'>.py.

locals {
  glue_scripts_dir = "${path.module}/../glue_scripts"
  glue_tmp_prefix  = "glue/tmp/"

  # Smallest to largest; a job shared by several configs gets the largest worker type asked for.
  # (G.025X is for streaming jobs only, so batch configs cannot ask for it.)
  worker_type_order = ["G.1X", "G.2X", "G.4X", "G.8X"]

  etl_jobs = toset([for c in values(local.configs) : c.etl_job])

  glue_jobs = {
    for job in local.etl_jobs : job => {
      script      = "${replace(job, "-", "_")}.py"
      config_type = distinct([for c in values(local.configs) : c.config_type if c.etl_job == job])[0]
      worker_type = local.worker_type_order[max([
        for c in values(local.configs) : index(local.worker_type_order, c.job_settings.worker_type) if c.etl_job == job
      ]...)]
      number_of_workers = max([for c in values(local.configs) : c.job_settings.number_of_workers if c.etl_job == job]...)
      timeout_minutes   = max([for c in values(local.configs) : c.job_settings.timeout_minutes if c.etl_job == job]...)
      # job_settings.execution_class is optional: a job shared by several configs runs STANDARD if
      # any of them asks for it (as the largest worker type wins), FLEX if one asks for FLEX, and
      # otherwise the deployment's glue_execution_class.
      execution_class = (contains([for c in values(local.configs) : c.etl_job == job ? try(c.job_settings.execution_class, null) : null], "STANDARD") ? "STANDARD" : contains([for c in values(local.configs) : c.etl_job == job ? try(c.job_settings.execution_class, null) : null], "FLEX") ? "FLEX" : var.glue_execution_class)
    }
  }

  glue_job_prefix       = "${local.name_prefix}-"
  glue_log_group_prefix = "/aws-glue/jobs/${local.name_prefix}"
  # Catalog database names are account-wide too, and allow only [a-z0-9_]: the database of config
  # database X is <project>_<environment>_X. Dagster reads the prefix from LAKE_GLUE_DATABASE_PREFIX
  # (output lake_env), the Glue jobs from their --database_prefix argument (default_arguments).
  glue_database_prefix = "${lower(replace(local.name_prefix, "-", "_"))}_"
  glue_job_names  = [for job in sort(keys(local.glue_jobs)) : "${local.glue_job_prefix}${job}"]

  # One catalog database per config: ingest configs fill the source layer, prepare configs the
  # target layer. Configs sharing a database share one catalog entry.
  # Keyed by the catalog name (prefix + config database).
  catalog_databases = {
    for db, cs in { for c in values(local.configs) : "${local.glue_database_prefix}${c.target.database}" => c... } : db => {
      layer           = cs[0].config_type == "prepare" ? "target" : "source"
      bucket          = cs[0].config_type == "prepare" ? module.storage.target_bucket : module.storage.source_bucket
      prefix          = cs[0].target.prefix
      config_database = cs[0].target.database
    }
  }

  lake_glue_files = fileset("${local.glue_scripts_dir}/lake_glue", "**/*.py")
}

# The shared package, zipped with lake_glue/ at the root so `import lake_glue` works from
# --extra-py-files. Only *.py files are packed (no __pycache__).
data "archive_file" "lake_glue" {
  type        = "zip"
  output_path = "${path.module}/.build/lake_glue.zip"

  dynamic "source" {
    for_each = local.lake_glue_files
    content {
      content  = file("${local.glue_scripts_dir}/lake_glue/${source.value}")
      filename = "lake_glue/${source.value}"
    }
  }
}

# Objects are re-uploaded only when their content hash changes (source_hash); the package key
# carries its hash too, so each job definition points at an immutable package version.
resource "aws_s3_object" "lake_glue_zip" {
  bucket      = module.storage.artifacts_bucket
  key         = "glue/packages/lake_glue-${data.archive_file.lake_glue.output_md5}.zip"
  source      = data.archive_file.lake_glue.output_path
  source_hash = data.archive_file.lake_glue.output_md5
}

# The jobs' Python dependencies: the locked wheels for Glue 5.0, zipped by `make glue-wheels`
# (lake_platform/glue_wheels.py). Installed with --no-index: no run reaches PyPI, every run of a
# deploy installs the same versions, and the VPC mode needs no NAT for it.
resource "aws_s3_object" "glue_wheels" {
  bucket      = module.storage.artifacts_bucket
  key         = "glue/packages/glue-wheels-${filemd5("${path.module}/${var.glue_wheels_zip}")}.zip"
  source      = "${path.module}/${var.glue_wheels_zip}"
  source_hash = filemd5("${path.module}/${var.glue_wheels_zip}")
}

resource "aws_s3_object" "glue_script" {
  for_each    = local.glue_jobs
  bucket      = module.storage.artifacts_bucket
  key         = "glue/scripts/${each.value.script}"
  source      = "${local.glue_scripts_dir}/${each.value.script}"
  source_hash = filemd5("${local.glue_scripts_dir}/${each.value.script}")
}

# Glue 5.0 writes every job's logs to <prefix>/output (stdout, stderr) and <prefix>/error
# (system, Spark and GlueLogger logs), the prefix set by --custom-logGroup-prefix. It ignores
# Glue 4.0's continuous-logging arguments. Both groups are created here, so their retention
# and KMS key hold from the first run (Glue would otherwise create them, kept forever).
resource "aws_cloudwatch_log_group" "glue_jobs" {
  #checkov:skip=CKV_AWS_338:Job logs are operational, not audit records; retention is a variable (default 90 days) to keep CloudWatch storage cost low.
  for_each = {
    output = "stdout and stderr of the drivers and executors"
    error  = "system, Spark daemon and GlueLogger logs"
  }
  name              = "/aws-glue/jobs/${local.name_prefix}/${each.key}" # = local.glue_log_group_prefix/<key>
  retention_in_days = var.log_retention_days
  kms_key_id        = module.kms.key_arn
}

resource "aws_glue_security_configuration" "this" {
  name = local.name_prefix

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = module.kms.key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = module.kms.key_arn
    }

    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = module.kms.key_arn
    }
  }
}

resource "aws_glue_data_catalog_encryption_settings" "this" {
  # Account-wide singleton: only the owning environment's stack writes it, with its own key.
  count = var.environment == var.catalog_encryption_owner ? 1 : 0

  data_catalog_encryption_settings {
    connection_password_encryption {
      return_connection_password_encrypted = true
      aws_kms_key_id                       = module.kms.key_arn
    }

    encryption_at_rest {
      catalog_encryption_mode = "SSE-KMS"
      sse_aws_kms_key_id      = module.kms.key_arn
    }
  }
}

resource "aws_glue_catalog_database" "this" {
  for_each     = local.catalog_databases
  name         = each.key
  description  = "lake_platform ${each.value.layer} layer: tables of config database ${each.value.config_database} (created and updated by the Glue jobs)."
  location_uri = "s3://${each.value.bucket}/${each.value.prefix}/"
}

resource "aws_glue_job" "this" {
  for_each = local.glue_jobs

  name                   = "${local.glue_job_prefix}${each.key}"
  description            = "lake_platform ${each.value.config_type} job ${each.key}, started by the Step Functions Glue runner."
  role_arn               = aws_iam_role.glue_job.arn
  glue_version           = var.glue_version
  worker_type            = each.value.worker_type
  number_of_workers      = each.value.number_of_workers
  timeout                = each.value.timeout_minutes
  max_retries            = 0 # retries belong to Step Functions (transient errors) and Dagster (run retries)
  execution_class        = each.value.execution_class
  security_configuration = aws_glue_security_configuration.this.name
  connections            = var.enable_vpc ? [module.network[0].glue_connection_name] : []

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${module.storage.artifacts_bucket}/${aws_s3_object.glue_script[each.key].key}"
  }

  execution_property {
    max_concurrent_runs = var.glue_max_concurrent_runs
  }

  default_arguments = {
    "--object_listing"                   = "s3"
    "--catalog"                          = "glue"
    "--database_prefix"                  = local.glue_database_prefix
    "--config_source"                    = "dynamodb://${module.dynamodb.configs_table_name}"
    "--raw_bucket"                       = module.storage.raw_bucket
    "--source_bucket"                    = module.storage.source_bucket
    "--target_bucket"                    = module.storage.target_bucket
    "--extra-py-files"                   = "s3://${module.storage.artifacts_bucket}/${aws_s3_object.lake_glue_zip.key}"
    "--additional-python-modules"        = "s3://${module.storage.artifacts_bucket}/${aws_s3_object.glue_wheels.key}"
    "--python-modules-installer-option"  = "--no-index"
    "--job-language"                     = "python"
    "--custom-logGroup-prefix"           = local.glue_log_group_prefix
    "--enable-metrics"                   = "true"
    "--enable-observability-metrics"     = "true"
    "--enable-auto-scaling"              = tostring(var.glue_auto_scaling)
    "--enable-spark-ui"                  = "false"
    "--job-bookmark-option"              = "job-bookmark-disable" # batches are tracked in the partitions table
    "--TempDir"                          = "s3://${module.storage.artifacts_bucket}/${local.glue_tmp_prefix}"
  }

  tags = { etl_job = each.key }

  lifecycle {
    precondition {
      condition     = each.value.execution_class != "FLEX" || contains(["G.1X", "G.2X"], each.value.worker_type)
      error_message = "Glue FLEX execution supports only G.1X and G.2X workers; ${each.key} needs ${each.value.worker_type}."
    }
  }
}
