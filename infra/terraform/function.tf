# The GraphQL API as a Cloud Function (gen 2), when Terraform owns it
# (var.function_source_object set). Otherwise cloudbuild.yaml deploys the same function with
# `gcloud functions deploy` and the same environment; Terraform still provides everything
# it needs (service account, IAM, secrets, buckets, topics).
#
# The source is the zip that cloudbuild.yaml stages and uploads to the sources bucket:
# main.py + requirements.txt (which installs the zookeeper wheel shipped beside it) +
# zoo.yaml + the catalog folder. See scripts/stage_function.py.

locals {
  terraform_deploys_function = var.function_source_object != ""
}

resource "google_cloudfunctions2_function" "graphql" {
  count = local.terraform_deploys_function ? 1 : 0
  #checkov:skip=CKV_GCP_124:Browsers and other clients call the API directly (var.function_ingress defaults to ALLOW_ALL); set ALLOW_INTERNAL_AND_GCLB when an external load balancer (Cloud Armor) fronts it. Callers are authenticated by the API's JWT checks.

  name        = var.function_name
  location    = var.region
  description = "AInimal Zookeeper GraphQL API (POST /graphql, SSE subscriptions)"

  build_config {
    runtime         = "python311"
    entry_point     = "graphql"
    service_account = google_service_account.builder.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = var.function_source_object
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function.email
    max_instance_count               = var.function_max_instances
    min_instance_count               = var.function_min_instances
    max_instance_request_concurrency = var.function_concurrency
    available_memory                 = var.function_memory
    available_cpu                    = "1" # concurrency above 1 needs at least one whole CPU
    timeout_seconds                  = var.function_timeout_seconds
    ingress_settings                 = var.function_ingress
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_secret_manager_secret_iam_member.function_app,
    google_secret_manager_secret_iam_member.function_oauth,
    google_project_iam_member.builder,
    google_service_account_iam_member.builder_acts_as,
  ]
}

# Anyone may call the endpoint; the API authenticates users itself (JWT, fixed algorithms,
# exp/aud/iss checked) and refuses what a viewer may not do.
resource "google_cloud_run_service_iam_member" "graphql_public" {
  count = local.terraform_deploys_function && var.function_public ? 1 : 0
  #checkov:skip=CKV_GCP_102:The GraphQL API is meant for browsers and public viewers; every resolver authorises the caller from its JWT.

  location = google_cloudfunctions2_function.graphql[0].location
  service  = google_cloudfunctions2_function.graphql[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
