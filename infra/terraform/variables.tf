# Inputs. Only project_id is required; the rest have working defaults.

variable "project_id" {
  description = "Google Cloud project that holds everything (must exist, with billing enabled)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 characters: lowercase letters, digits, hyphens), not a project name or number."
  }
}

variable "region" {
  description = "Region for the function, buckets, Artifact Registry, the GKE cluster and Cloud Run jobs."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region such as europe-west1 or us-central1, not a zone."
  }
}

variable "name_prefix" {
  description = "Short prefix of every resource name (buckets, topics, service accounts, cluster). The application uses \"<name_prefix>-\" as its gcp.prefix for Firestore collections and Pub/Sub names."
  type        = string
  default     = "zk"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,13}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-15 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (it becomes part of bucket and service account names)."
  }
}

variable "labels" {
  description = "Extra labels put on every resource that takes labels (merged over app=ainimal-zookeeper, managed-by=terraform)."
  type        = map(string)
  default     = {}
}

variable "compute_backend" {
  description = "Where workers run: \"gke\" (a GKE Autopilot cluster, one Kubernetes Job per instance) or \"cloud_run\" (one Cloud Run job per instance; no cluster is created)."
  type        = string
  default     = "gke"

  validation {
    condition     = contains(["gke", "cloud_run"], var.compute_backend)
    error_message = "compute_backend must be \"gke\" or \"cloud_run\"."
  }
}

variable "worker_image" {
  description = "Worker container image. Empty: <registry>/worker:latest in this configuration's Artifact Registry repository. Prefer an immutable tag or digest (Cloud Build passes :SHORT_SHA to the function)."
  type        = string
  default     = ""

  validation {
    condition     = var.worker_image == "" || can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-zA-Z0-9._/-]+(:[a-zA-Z0-9._-]+|@sha256:[a-f0-9]{64})$", var.worker_image))
    error_message = "worker_image must be empty or a full image reference with a tag or digest, e.g. europe-west1-docker.pkg.dev/PROJECT/REPO/worker:abc1234."
  }
}

variable "artifact_repository_id" {
  description = "Name of the Artifact Registry Docker repository for the worker image (cloudbuild.yaml's _REPOSITORY)."
  type        = string
  default     = "ainimal-zookeeper"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.artifact_repository_id))
    error_message = "artifact_repository_id must be lowercase letters, digits and hyphens, starting with a letter (at most 63 characters)."
  }
}

variable "image_retention_untagged_days" {
  description = "Untagged worker images older than this many days are deleted by the repository's cleanup policy."
  type        = number
  default     = 14

  validation {
    condition     = var.image_retention_untagged_days >= 1
    error_message = "image_retention_untagged_days must be at least 1."
  }
}

variable "jwt_secret_id" {
  description = "Secret Manager secret id holding the key that signs and verifies the API's JWTs. Terraform creates the secret without a value; add versions with gcloud (see README)."
  type        = string
  default     = "ainimal-zookeeper-jwt"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.jwt_secret_id))
    error_message = "jwt_secret_id may hold letters, digits, '_' and '-' (1-255 characters)."
  }
}

variable "admin_password_secret_id" {
  description = "Secret Manager secret id holding the password of the first admin (initial_admin_username), created at the function's first start when no admin exists. Terraform creates the secret without a value; add a version with gcloud (see docs/deploy.md)."
  type        = string
  default     = "ainimal-zookeeper-admin-password"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.admin_password_secret_id))
    error_message = "admin_password_secret_id may hold letters, digits, '_' and '-' (1-255 characters)."
  }
}

variable "bus_signing_secret_id" {
  description = "Secret Manager secret id holding the key each worker's Pub/Sub event signing key is derived from (ZK_BUS_SIGNING_SECRET): the API believes an event about an instance only from that instance's worker. Terraform creates the secret without a value; add a version with gcloud (see docs/deploy.md)."
  type        = string
  default     = "ainimal-zookeeper-bus-signing"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,255}$", var.bus_signing_secret_id))
    error_message = "bus_signing_secret_id may hold letters, digits, '_' and '-' (1-255 characters)."
  }
}

variable "initial_admin_username" {
  description = "Username of the first admin account, made at the function's first start (ZK_ADMIN_USERNAME) with the password in admin_password_secret_id. Ignored once an admin exists."
  type        = string
  default     = "admin"
}

variable "oauth_providers" {
  description = "Names of OAuth / OIDC authentication providers (e.g. [\"google\", \"github\"]) whose client secret the function needs. Each gets a secret <name_prefix>-oauth-<name>-client-secret, exposed as ZK_OAUTH_<NAME>_CLIENT_SECRET."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.oauth_providers : can(regex("^[a-z][a-z0-9-]{0,30}$", name))])
    error_message = "oauth_providers entries must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "function_name" {
  description = "Name of the Cloud Function (gen 2) that serves the GraphQL API (cloudbuild.yaml's _FUNCTION_NAME)."
  type        = string
  default     = "graphql"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.function_name))
    error_message = "function_name must be lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "function_source_object" {
  description = "Object name, in the sources bucket, of the staged function zip that Cloud Build uploads (function/<SHORT_SHA>.zip). Empty: Terraform does not create the function and Cloud Build's gcloud step deploys it. Set: Terraform owns the function; run Cloud Build with _DEPLOY_FUNCTION=false. Never both."
  type        = string
  default     = ""

  validation {
    condition     = var.function_source_object == "" || can(regex("^function/[A-Za-z0-9._-]+\\.zip$", var.function_source_object))
    error_message = "function_source_object must be empty or look like function/<tag>.zip."
  }
}

variable "function_max_instances" {
  description = "Most function instances at once (the control plane is stateless, so this only caps cost and load on Firestore)."
  type        = number
  default     = 10

  validation {
    condition     = var.function_max_instances >= 1 && var.function_max_instances <= 1000
    error_message = "function_max_instances must be between 1 and 1000."
  }
}

variable "function_min_instances" {
  description = "Function instances kept warm (0 scales to zero; 1 avoids cold starts on the first request)."
  type        = number
  default     = 0

  validation {
    condition     = var.function_min_instances >= 0
    error_message = "function_min_instances must be 0 or more."
  }
}

variable "function_concurrency" {
  description = "Requests one function instance serves at once (the API is ASGI; SSE subscriptions hold a request open)."
  type        = number
  default     = 80

  validation {
    condition     = var.function_concurrency >= 1 && var.function_concurrency <= 1000
    error_message = "function_concurrency must be between 1 and 1000."
  }
}

variable "function_memory" {
  description = "Memory of one function instance (Kubernetes quantity, e.g. 512Mi, 1Gi)."
  type        = string
  default     = "1Gi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.function_memory))
    error_message = "function_memory must be a quantity such as 512Mi or 1Gi."
  }
}

variable "function_timeout_seconds" {
  description = "Longest request, in seconds. SSE subscriptions are long requests; clients reconnect when one ends."
  type        = number
  default     = 3600

  validation {
    condition     = var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 3600
    error_message = "function_timeout_seconds must be between 1 and 3600 (the gen 2 HTTP limit)."
  }
}

variable "function_ingress" {
  description = "Who may reach the function: ALLOW_ALL (browsers call it directly), ALLOW_INTERNAL_AND_GCLB (behind an external load balancer) or ALLOW_INTERNAL_ONLY."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_INTERNAL_ONLY"], var.function_ingress)
    error_message = "function_ingress must be ALLOW_ALL, ALLOW_INTERNAL_AND_GCLB or ALLOW_INTERNAL_ONLY."
  }
}

variable "function_public" {
  description = "Let anyone invoke the function (roles/run.invoker for allUsers). The API authenticates users itself (JWT); set false to require Google IAM identity tokens as well. Applies only when Terraform owns the function."
  type        = bool
  default     = true
}

variable "worker_namespace" {
  description = "Kubernetes namespace the GKE workers run in."
  type        = string
  default     = "ainimal-zookeeper"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.worker_namespace))
    error_message = "worker_namespace must be a DNS-1123 label."
  }
}

variable "worker_ksa" {
  description = "Kubernetes service account of the GKE workers; it is bound to the worker Google service account through Workload Identity."
  type        = string
  default     = "worker"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.worker_ksa))
    error_message = "worker_ksa must be a DNS-1123 label."
  }
}

variable "gke_release_channel" {
  description = "GKE release channel of the Autopilot cluster."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.gke_release_channel)
    error_message = "gke_release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "gke_subnet_cidr" {
  description = "Primary range of the worker subnet (nodes). Used only with compute_backend = \"gke\"."
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = can(cidrhost(var.gke_subnet_cidr, 0))
    error_message = "gke_subnet_cidr must be a CIDR block."
  }
}

variable "gke_pods_cidr" {
  description = "Secondary range for pods (Autopilot gives each node a /24 of it)."
  type        = string
  default     = "10.16.0.0/14"

  validation {
    condition     = can(cidrhost(var.gke_pods_cidr, 0))
    error_message = "gke_pods_cidr must be a CIDR block."
  }
}

variable "gke_services_cidr" {
  description = "Secondary range for Kubernetes services."
  type        = string
  default     = "10.20.0.0/20"

  validation {
    condition     = can(cidrhost(var.gke_services_cidr, 0))
    error_message = "gke_services_cidr must be a CIDR block."
  }
}

variable "firestore_location" {
  description = "Firestore location (a region such as europe-west1, or a multi-region such as eur3 / nam5). Null: var.region. Cannot change after creation."
  type        = string
  default     = null
}

variable "firestore_database_id" {
  description = "Firestore database id. The client libraries use \"(default)\" unless told otherwise; change it only if the server's Firestore adapter is configured for another database."
  type        = string
  default     = "(default)"

  validation {
    condition     = var.firestore_database_id == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database_id))
    error_message = "firestore_database_id must be \"(default)\" or 4-63 lowercase letters, digits and hyphens."
  }
}

variable "recording_retention_days" {
  description = "Recordings older than this many days are deleted from the recordings bucket; 0 keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.recording_retention_days >= 0
    error_message = "recording_retention_days must be 0 (keep) or more."
  }
}

variable "noncurrent_checkpoint_retention_days" {
  description = "Overwritten or deleted checkpoint objects stay recoverable (as noncurrent versions) for this many days."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_checkpoint_retention_days >= 1
    error_message = "noncurrent_checkpoint_retention_days must be at least 1."
  }
}

variable "source_retention_days" {
  description = "Staged function zips in the sources bucket are deleted after this many days. Keep it longer than the age of the zip Terraform deploys (var.function_source_object)."
  type        = number
  default     = 90

  validation {
    condition     = var.source_retention_days >= 7
    error_message = "source_retention_days must be at least 7."
  }
}

variable "pubsub_retention" {
  description = "How long Pub/Sub keeps messages on the events and dead-letter topics (duration in seconds, e.g. 86400s; 600s to 2678400s). The dead-letter subscription keeps them at most 7 days (its limit)."
  type        = string
  default     = "604800s"

  validation {
    condition     = try(tonumber(trimsuffix(var.pubsub_retention, "s")) >= 600 && tonumber(trimsuffix(var.pubsub_retention, "s")) <= 2678400 && endswith(var.pubsub_retention, "s"), false)
    error_message = "pubsub_retention must be a duration in seconds between 600s and 2678400s (31 days)."
  }
}

variable "kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) for customer-managed encryption of the buckets, Pub/Sub topics, the Docker repository, the secrets and Firestore. Null: Google-managed keys. The key must be in var.region (Firestore: its location)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be null or projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY."
  }
}

variable "deletion_protection" {
  description = "Protect the Firestore database and the GKE cluster from `terraform destroy` (and buckets from being emptied by it)."
  type        = bool
  default     = true
}
