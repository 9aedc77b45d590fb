terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }

  # Partial configuration: bucket, key, region and dynamodb_table come from the outputs of
  # CFN/seed.yaml (buildspec.yml passes them with -backend-config).
  backend "s3" {}
}
