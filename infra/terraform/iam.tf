# Service accounts and what each may do. Grants are on the single resource wherever the
# resource exists when Terraform runs; project-level grants are the ones whose resources are
# created at run time, each justified where it is made.

resource "google_service_account" "function" {
  account_id   = "${var.name_prefix}-function"
  display_name = "AInimal Zookeeper control plane (Cloud Function)"
  description  = "Runs the GraphQL API: Firestore state, bucket objects, Pub/Sub topics per instance, starts workers."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "worker" {
  account_id   = "${var.name_prefix}-worker"
  display_name = "AInimal Zookeeper worker"
  description  = "Identity of one worker (GKE pod via Workload Identity, or Cloud Run job): bus and bucket objects only."

  depends_on = [google_project_service.enabled]
}

resource "google_service_account" "builder" {
  account_id   = "${var.name_prefix}-builder"
  display_name = "AInimal Zookeeper Cloud Build"
  description  = "Runs cloudbuild.yaml (tests, worker image, function zip, deploy) and builds the function's container."

  depends_on = [google_project_service.enabled]
}

# ---- the function (control plane) ----

# Firestore has no per-collection IAM: datastore.user on the project is the narrowest role
# that reads and writes documents (it cannot change indexes or the database).
resource "google_project_iam_member" "function_datastore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.function.member
}

resource "google_storage_bucket_iam_member" "function_objects" {
  for_each = {
    checkpoints = google_storage_bucket.checkpoints.name
    recordings  = google_storage_bucket.recordings.name
  }

  bucket = each.value
  role   = "roles/storage.objectAdmin"
  member = google_service_account.function.member
}

# The function creates and deletes a command topic and subscription per instance at run
# time. Pub/Sub has no role that allows creating topics and subscriptions under a name
# prefix only, and IAM Conditions on resource names are not supported for Pub/Sub, so this
# is roles/pubsub.editor on the project. It carries no setIamPolicy (pubsub.admin would).
resource "google_project_iam_member" "function_pubsub" {
  project = var.project_id
  role    = "roles/pubsub.editor"
  member  = google_service_account.function.member
}

resource "google_secret_manager_secret_iam_member" "function_app" {
  for_each = google_secret_manager_secret.app

  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function.member
}

moved {
  from = google_secret_manager_secret_iam_member.function_jwt
  to   = google_secret_manager_secret_iam_member.function_app["jwt"]
}

resource "google_secret_manager_secret_iam_member" "function_oauth" {
  for_each = google_secret_manager_secret.oauth_client

  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function.member
}

# ---- the workers ----

# Workers read and write checkpoints and recordings; nothing else in Cloud Storage.
resource "google_storage_bucket_iam_member" "worker_objects" {
  for_each = {
    checkpoints = google_storage_bucket.checkpoints.name
    recordings  = google_storage_bucket.recordings.name
  }

  bucket = each.value
  role   = "roles/storage.objectAdmin"
  member = google_service_account.worker.member
}

# Workers publish telemetry on the events topic (a topic that exists now: grant on it).
resource "google_pubsub_topic_iam_member" "worker_events" {
  topic  = google_pubsub_topic.events.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.worker.member
}

# A worker forwards a command it cannot decode to the dead-letter topic itself (a message
# dead-lettered from an ordered subscription can wedge it), so it may publish there too.
resource "google_pubsub_topic_iam_member" "worker_dead_letter" {
  topic  = google_pubsub_topic.commands_dead_letter.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.worker.member
}

# Workers pull their commands from per-instance subscriptions that the function creates at
# run time; granting on each would need setIamPolicy in the function. Subscriber on the
# project lets a worker consume (not create, delete or publish) subscriptions.
resource "google_project_iam_member" "worker_subscriber" {
  project = var.project_id
  role    = "roles/pubsub.subscriber"
  member  = google_service_account.worker.member
}

# Workers never touch Firestore: they report through the bus and the control plane writes
# the state. No datastore role on purpose.

# ---- the build ----

resource "google_artifact_registry_repository_iam_member" "builder_push" {
  location   = google_artifact_registry_repository.docker.location
  repository = google_artifact_registry_repository.docker.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.builder.member
}

resource "google_storage_bucket_iam_member" "builder_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.builder.member
}

# Project-level roles of the build account: write build logs; deploy the function (the
# function is created by the deploy, so there is no resource to grant on beforehand);
# build the function's container (Cloud Functions runs its build as this account too, and
# that build writes to the gcf-artifacts repository Google creates on first deploy).
resource "google_project_iam_member" "builder" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/cloudfunctions.developer",
    "roles/run.builder",
  ])

  project = var.project_id
  role    = each.value
  member  = google_service_account.builder.member
}

# Deploying a function that runs as the function account, and naming the builder as the
# function's build account, both need actAs on that account.
resource "google_service_account_iam_member" "builder_acts_as" {
  for_each = {
    function = google_service_account.function.name
    builder  = google_service_account.builder.name
  }

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.builder.member
}
