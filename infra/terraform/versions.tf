# Provider and Terraform versions. The google and google-beta providers are pinned to one
# major version: a new major changes resource schemas, so upgrading is a deliberate edit.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.14"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.14"
    }
  }

  # State: local by default. For a team, keep it in a bucket created beforehand (not by this
  # configuration) and run `terraform init -backend-config="bucket=MY_STATE_BUCKET"` after
  # uncommenting:
  # backend "gcs" {
  #   prefix = "ainimal-zookeeper"
  # }
}

provider "google" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}

# Only for google_project_service_identity (the Pub/Sub, Artifact Registry, Secret Manager
# and Firestore service agents), which exists in the beta provider alone.
provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = local.labels
}
