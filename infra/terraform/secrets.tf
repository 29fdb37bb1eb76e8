# Secret Manager secrets, created empty: no secret value is ever in this repository or in
# Terraform state. Add versions out of band (README: "Secrets"), e.g.
#   openssl rand -base64 48 | tr -d '\n' | gcloud secrets versions add ainimal-zookeeper-jwt --data-file=-

# The API's own secrets: the JWT signing key, the first admin's password (used once, at the
# first start, to create the account named by var.initial_admin_username), and the key workers'
# Pub/Sub event signing keys are derived from (an event counts only from its instance's worker).
resource "google_secret_manager_secret" "app" {
  for_each = {
    jwt            = var.jwt_secret_id
    admin_password = var.admin_password_secret_id
    bus_signing    = var.bus_signing_secret_id
  }

  secret_id = each.value

  replication {
    dynamic "auto" {
      for_each = local.use_cmek ? [] : [1]
      content {}
    }
    # With CMEK the secret lives in var.region only, encrypted with the regional key.
    dynamic "user_managed" {
      for_each = local.use_cmek ? [var.kms_key_name] : []
      content {
        replicas {
          location = var.region
          customer_managed_encryption {
            kms_key_name = user_managed.value
          }
        }
      }
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}

moved {
  from = google_secret_manager_secret.jwt
  to   = google_secret_manager_secret.app["jwt"]
}

# One client secret per OAuth / OIDC provider in var.oauth_providers.
resource "google_secret_manager_secret" "oauth_client" {
  for_each = toset(var.oauth_providers)

  secret_id = "${var.name_prefix}-oauth-${each.value}-client-secret"

  replication {
    dynamic "auto" {
      for_each = local.use_cmek ? [] : [1]
      content {}
    }
    dynamic "user_managed" {
      for_each = local.use_cmek ? [var.kms_key_name] : []
      content {
        replicas {
          location = var.region
          customer_managed_encryption {
            kms_key_name = user_managed.value
          }
        }
      }
    }
  }

  depends_on = [google_project_service.enabled, google_kms_crypto_key_iam_member.cmek]
}
