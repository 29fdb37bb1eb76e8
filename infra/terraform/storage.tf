# Buckets: checkpoints (weights + state, content-addressed), recordings (telemetry chunks)
# and sources (the staged function zip Cloud Build uploads). All private: uniform
# bucket-level access, public access prevention enforced, no ACLs.

resource "google_storage_bucket" "checkpoints" {
  #checkov:skip=CKV_GCP_62:Usage/storage access logs are the legacy mechanism; reads and writes are audited with Cloud Audit Logs (enable DATA_READ/DATA_WRITE for storage.googleapis.com, see README).
  name                        = local.checkpoints_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  # Checkpoints are the one thing that cannot be recomputed: keep overwritten or deleted
  # objects as noncurrent versions for a while.
  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_checkpoint_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "encryption" {
    for_each = local.use_cmek ? [var.kms_key_name] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.cmek, google_project_service.enabled]
}

resource "google_storage_bucket" "recordings" {
  #checkov:skip=CKV_GCP_62:Usage/storage access logs are the legacy mechanism; reads and writes are audited with Cloud Audit Logs (enable DATA_READ/DATA_WRITE for storage.googleapis.com, see README).
  #checkov:skip=CKV_GCP_78:Recordings are append-only chunks that expire after var.recording_retention_days; versions would only keep deleted chunks (and their cost) around.
  name                        = local.recordings_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = !var.deletion_protection

  versioning {
    enabled = false
  }

  dynamic "lifecycle_rule" {
    for_each = var.recording_retention_days > 0 ? [var.recording_retention_days] : []
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "encryption" {
    for_each = local.use_cmek ? [var.kms_key_name] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.cmek, google_project_service.enabled]
}

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:Usage/storage access logs are the legacy mechanism; writes are audited with Cloud Audit Logs.
  #checkov:skip=CKV_GCP_78:Every staged zip has its own name (function/<SHORT_SHA>.zip) and is rebuilt from git; nothing is overwritten, so versions add nothing.
  name                        = local.sources_bucket
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # only build artifacts, all reproducible from git

  versioning {
    enabled = false
  }

  lifecycle_rule {
    condition {
      age = var.source_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  dynamic "encryption" {
    for_each = local.use_cmek ? [var.kms_key_name] : []
    content {
      default_kms_key_name = encryption.value
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.cmek, google_project_service.enabled]
}
