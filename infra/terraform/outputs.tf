output "function_url" {
  description = "HTTPS URL of the GraphQL function (POST <url>/graphql). Null when Cloud Build deploys the function: then `gcloud functions describe graphql --gen2 --region=REGION --format='value(serviceConfig.uri)'`."
  value       = local.terraform_deploys_function ? google_cloudfunctions2_function.graphql[0].url : null
}

output "function_service_account" {
  description = "Email of the function's runtime service account (gcloud functions deploy --service-account)."
  value       = google_service_account.function.email
}

output "worker_service_account" {
  description = "Email of the workers' service account (Workload Identity target / Cloud Run job identity)."
  value       = google_service_account.worker.email
}

output "builder_service_account" {
  description = "Email of the Cloud Build service account (gcloud builds submit --service-account, and the function's build account)."
  value       = google_service_account.builder.email
}

output "checkpoints_bucket" {
  description = "Bucket for checkpoints (config gcp.bucket, ZK_CHECKPOINTS_BUCKET)."
  value       = google_storage_bucket.checkpoints.name
}

output "recordings_bucket" {
  description = "Bucket for recordings (ZK_RECORDINGS_BUCKET)."
  value       = google_storage_bucket.recordings.name
}

output "sources_bucket" {
  description = "Bucket Cloud Build uploads the staged function zip to."
  value       = google_storage_bucket.sources.name
}

output "events_topic" {
  description = "Pub/Sub topic the workers publish telemetry and events on."
  value       = google_pubsub_topic.events.name
}

output "commands_dead_letter_topic" {
  description = "Pub/Sub topic undeliverable commands are forwarded to."
  value       = google_pubsub_topic.commands_dead_letter.name
}

output "commands_dead_letter_subscription" {
  description = "Subscription to pull dead-lettered commands from, for inspection."
  value       = google_pubsub_subscription.commands_dead_letter.name
}

output "app_prefix" {
  description = "Prefix of Firestore collections and per-instance Pub/Sub names (config gcp.prefix)."
  value       = local.app_prefix
}

output "cluster_name" {
  description = "GKE Autopilot cluster of the workers (null with compute_backend = cloud_run)."
  value       = local.use_gke ? google_container_cluster.workers[0].name : null
}

output "cluster_dns_endpoint" {
  description = "DNS endpoint of the cluster's control plane (gcloud container clusters get-credentials --dns-endpoint uses it)."
  value       = local.use_gke ? google_container_cluster.workers[0].control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint : null
}

output "registry_url" {
  description = "Artifact Registry Docker repository URL; the worker image is <registry_url>/worker:<tag>."
  value       = local.registry_url
}

output "worker_image" {
  description = "Worker image the function launches (ZK_WORKER_IMAGE)."
  value       = local.worker_image
}

output "jwt_secret_id" {
  description = "Secret Manager secret holding the JWT key (add a version with gcloud secrets versions add)."
  value       = google_secret_manager_secret.app["jwt"].secret_id
}

output "admin_password_secret_id" {
  description = "Secret Manager secret holding the first admin's password (add a version before the first deploy)."
  value       = google_secret_manager_secret.app["admin_password"].secret_id
}

output "oauth_client_secret_ids" {
  description = "Secret Manager secrets for the OAuth client secrets, by provider."
  value       = { for name, secret in google_secret_manager_secret.oauth_client : name => secret.secret_id }
}

output "function_env_vars" {
  description = "The function's environment as one --set-env-vars value (for a manual gcloud functions deploy)."
  value       = join(",", [for key, value in local.function_env : "${key}=${value}" if key != "LOG_EXECUTION_ID"])
}

output "function_secret_flags" {
  description = "The function's secrets as one --set-secrets value."
  value       = join(",", [for key, secret in local.function_secrets : "${key}=${secret}:latest"])
}
