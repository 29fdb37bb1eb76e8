# Cloud Run jobs for the workers (compute_backend = "cloud_run"): the function creates one
# job per instance at run time, so nothing is provisioned here beyond the IAM to do it.

# Create, run and delete jobs. The jobs do not exist before run time, so the grant is on the
# project; run.developer cannot change IAM policies (run.admin could).
resource "google_project_iam_member" "function_run_jobs" {
  count = local.use_cloud_run ? 1 : 0

  project = var.project_id
  role    = "roles/run.developer"
  member  = google_service_account.function.member
}

# The jobs run as the worker account: the function must be allowed to act as it, and as
# nothing else.
resource "google_service_account_iam_member" "function_acts_as_worker" {
  count = local.use_cloud_run ? 1 : 0

  service_account_id = google_service_account.worker.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.function.member
}

# Cloud Run pulls the worker image with its service agent, which can read Artifact Registry
# repositories in the same project by default: no grant needed.
