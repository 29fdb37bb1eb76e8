# Firestore (native mode): the control plane's DocumentStore. The application names its
# collections "<gcp.prefix><collection>", e.g. zk-instances, zk-checkpoints, zk-commands.
resource "google_firestore_database" "main" {
  project                           = var.project_id
  name                              = var.firestore_database_id
  location_id                       = coalesce(var.firestore_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  deletion_policy                   = var.deletion_protection ? "ABANDON" : "DELETE"

  dynamic "cmek_config" {
    for_each = local.use_cmek ? [var.kms_key_name] : []
    content {
      kms_key_name = cmek_config.value
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}

# Composite indexes for the queries the control plane runs (single-field indexes are
# automatic). Each query filters on the first field and orders by (or filters on) the second.
locals {
  firestore_indexes = {
    # instances(statuses) ordered by creation; the active-instance counts behind the limits.
    instances_by_status_created = { collection = "instances", fields = ["status", "createdAt"] }
    # instances of one model in given statuses (per-model max_instances).
    instances_by_model_status = { collection = "instances", fields = ["model", "status"] }
    # an instance's checkpoints, oldest first (the lineage view).
    checkpoints_by_instance_created = { collection = "checkpoints", fields = ["instance", "createdAt"] }
    # an instance's commands in a status (pending / acknowledged), for idempotent retries.
    commands_by_instance_status = { collection = "commands", fields = ["instance", "status"] }
  }
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_indexes

  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = "${local.app_prefix}${each.value.collection}"
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }
}
