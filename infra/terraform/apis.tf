# The Google APIs this deployment uses. Disabling them on destroy would break anything else
# in the project that uses them, so they stay enabled.
locals {
  services = concat(
    [
      "artifactregistry.googleapis.com",
      "cloudbuild.googleapis.com",
      "cloudfunctions.googleapis.com",
      "firestore.googleapis.com",
      "iam.googleapis.com",
      "logging.googleapis.com",
      "pubsub.googleapis.com",
      "run.googleapis.com", # gen 2 functions are Cloud Run services; also Cloud Run jobs
      "secretmanager.googleapis.com",
      "storage.googleapis.com",
    ],
    local.use_gke ? ["binaryauthorization.googleapis.com", "compute.googleapis.com", "container.googleapis.com"] : [],
    local.use_cmek ? ["cloudkms.googleapis.com"] : [],
  )
}

resource "google_project_service" "enabled" {
  for_each = toset(local.services)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# Service agents (Google-managed identities) that need a grant: Pub/Sub's forwards
# undeliverable commands to the dead-letter topic; the others use the CMEK key when one is set.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_project_service_identity" "cmek" {
  provider = google-beta
  for_each = local.use_cmek ? toset(["artifactregistry.googleapis.com", "secretmanager.googleapis.com", "firestore.googleapis.com"]) : toset([])

  project = var.project_id
  service = each.value

  depends_on = [google_project_service.enabled]
}

data "google_storage_project_service_account" "gcs" {
  project = var.project_id

  depends_on = [google_project_service.enabled]
}
