# Names derived from var.name_prefix. Cloud Build (cloudbuild.yaml) derives the same names
# from its _PREFIX substitution, so keep both in step when changing a pattern here.
locals {
  labels = merge({ app = "ainimal-zookeeper", managed-by = "terraform" }, var.labels)

  use_gke       = var.compute_backend == "gke"
  use_cloud_run = var.compute_backend == "cloud_run"
  use_cmek      = var.kms_key_name != null

  # The prefix the application puts before Firestore collections, Pub/Sub topics and
  # subscriptions (config key gcp.prefix): "zk" -> "zk-".
  app_prefix = "${var.name_prefix}-"

  checkpoints_bucket = "${var.project_id}-${var.name_prefix}-checkpoints"
  recordings_bucket  = "${var.project_id}-${var.name_prefix}-recordings"
  sources_bucket     = "${var.project_id}-${var.name_prefix}-sources"

  events_topic             = "${var.name_prefix}-events"
  commands_dead_letter     = "${var.name_prefix}-commands-dead-letter"
  commands_dead_letter_sub = "${var.name_prefix}-commands-dead-letter-inspect"

  cluster_name = "${var.name_prefix}-workers"

  registry_url = "${var.region}-docker.pkg.dev/${var.project_id}/${var.artifact_repository_id}"
  worker_image = var.worker_image != "" ? var.worker_image : "${local.registry_url}/worker:latest"

  # The function reads its config from the staged source (see scripts/stage_function.py):
  # Cloud Functions (gen 2) unpacks the source into /workspace.
  function_config_path = "/workspace/zoo.yaml"

  # Every variable the function gets, apart from secrets. cloudbuild.yaml passes the same
  # keys with --set-env-vars (tests/unit/test_infra.py checks that they agree).
  function_env = {
    ZK_CONFIG                     = local.function_config_path
    GOOGLE_CLOUD_PROJECT          = var.project_id
    ZK_REGION                     = var.region
    ZK_PREFIX                     = local.app_prefix
    ZK_CHECKPOINTS_BUCKET         = local.checkpoints_bucket
    ZK_RECORDINGS_BUCKET          = local.recordings_bucket
    ZK_CREATE_BUCKET              = "false"
    ZK_EVENTS_TOPIC               = local.events_topic
    ZK_COMMANDS_DEAD_LETTER_TOPIC = local.commands_dead_letter
    ZK_COMPUTE                    = var.compute_backend
    ZK_WORKER_IMAGE               = local.worker_image
    ZK_WORKER_SERVICE_ACCOUNT     = google_service_account.worker.email
    ZK_WORKER_NAMESPACE           = var.worker_namespace
    ZK_WORKER_KSA                 = var.worker_ksa
    ZK_GKE_CLUSTER                = local.use_gke ? local.cluster_name : ""
    ZK_GKE_LOCATION               = local.use_gke ? var.region : ""
    ZK_ADMIN_USERNAME             = var.initial_admin_username
    # gcloud adds this to every gen 2 deploy; declaring it avoids a diff after one.
    LOG_EXECUTION_ID = "true"
  }

  # Secret Manager secrets exposed to the function as environment variables.
  function_secrets = merge(
    {
      ZK_JWT_SECRET         = google_secret_manager_secret.app["jwt"].secret_id
      ZK_ADMIN_PASSWORD     = google_secret_manager_secret.app["admin_password"].secret_id
      ZK_BUS_SIGNING_SECRET = google_secret_manager_secret.app["bus_signing"].secret_id
    },
    { for name, secret in google_secret_manager_secret.oauth_client : "ZK_OAUTH_${upper(replace(name, "-", "_"))}_CLIENT_SECRET" => secret.secret_id },
  )
}

data "google_project" "this" {
  project_id = var.project_id
}
