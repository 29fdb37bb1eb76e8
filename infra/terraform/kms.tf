# Customer-managed encryption (optional): when var.kms_key_name is set, the service agents
# that encrypt on this deployment's behalf may use the key. The key itself (and its
# rotation) is managed outside this configuration, usually by a security team.
locals {
  cmek_agents = local.use_cmek ? merge(
    {
      storage = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
      pubsub  = google_project_service_identity.pubsub.member
    },
    { for service, identity in google_project_service_identity.cmek : split(".", service)[0] => identity.member },
    # GKE encrypts Kubernetes secrets (application-layer) with its own service agent.
    local.use_gke ? { container = "serviceAccount:service-${data.google_project.this.number}@container-engine-robot.iam.gserviceaccount.com" } : {},
  ) : {}
}

resource "google_kms_crypto_key_iam_member" "cmek" {
  for_each = local.cmek_agents

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = each.value

  # The agents exist once their APIs are enabled.
  depends_on = [google_project_service.enabled]
}
