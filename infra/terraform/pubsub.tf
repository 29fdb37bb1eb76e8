# Pub/Sub: one events topic (workers -> control plane) and a dead-letter topic for commands.
# The per-instance command topics and subscriptions are created and deleted at run time by
# the function (the emulator ignores subscription filters, so routing is by subscription);
# their dead-letter policy points at the topic below.

resource "google_pubsub_topic" "events" {
  name                       = local.events_topic
  message_retention_duration = var.pubsub_retention
  kms_key_name               = var.kms_key_name

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}

resource "google_pubsub_topic" "commands_dead_letter" {
  name                       = local.commands_dead_letter
  message_retention_duration = var.pubsub_retention
  kms_key_name               = var.kms_key_name

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}

# Holds dead-lettered commands so an operator can inspect them:
#   gcloud pubsub subscriptions pull <name_prefix>-commands-dead-letter-inspect --limit=10
resource "google_pubsub_subscription" "commands_dead_letter" {
  name                       = local.commands_dead_letter_sub
  topic                      = google_pubsub_topic.commands_dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "${min(tonumber(trimsuffix(var.pubsub_retention, "s")), 604800)}s" # subscriptions: 7 days at most
  retain_acked_messages      = false

  expiration_policy {
    ttl = "" # never expires, even when nobody pulls for a month
  }
}

# Dead-lettering is done by the Pub/Sub service agent: it publishes to the dead-letter topic
# and must be able to ack on the source subscription. The source subscriptions are created at
# run time (one per instance) and creating them must not need setIamPolicy (which
# roles/pubsub.editor lacks), so the agent gets subscriber on the project rather than on each
# subscription. The agent is Google's own identity, used only for this forwarding.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.commands_dead_letter.id
  role   = "roles/pubsub.publisher"
  member = google_project_service_identity.pubsub.member
}

resource "google_project_iam_member" "pubsub_agent_subscriber" {
  project = var.project_id
  role    = "roles/pubsub.subscriber"
  member  = google_project_service_identity.pubsub.member
}
