# The Docker repository for the worker image (cloudbuild.yaml pushes worker:<SHORT_SHA> and
# worker:latest). Tags stay mutable because :latest moves; deploys pin :<SHORT_SHA>.
resource "google_artifact_registry_repository" "docker" {
  repository_id = var.artifact_repository_id
  location      = var.region
  format        = "DOCKER"
  description   = "AInimal Zookeeper worker images"
  kms_key_name  = var.kms_key_name

  docker_config {
    immutable_tags = false
  }

  cleanup_policy_dry_run = false

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.image_retention_untagged_days * 86400}s"
    }
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}
