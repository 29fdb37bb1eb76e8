# GKE Autopilot cluster for the workers (compute_backend = "gke"): one Kubernetes Job per
# instance, created by the function. Private nodes in a dedicated VPC with Cloud NAT for
# egress (model hubs, git sources); Google APIs through Private Google Access. The control
# plane is reached only through its DNS endpoint, which checks Google IAM
# (container.clusters.connect), so the function needs no fixed IP and no VPC connector.

resource "google_compute_network" "workers" {
  count = local.use_gke ? 1 : 0

  name                    = "${var.name_prefix}-workers"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "workers" {
  count = local.use_gke ? 1 : 0

  name                     = "${var.name_prefix}-workers"
  region                   = var.region
  network                  = google_compute_network.workers[0].id
  ip_cidr_range            = var.gke_subnet_cidr
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.gke_pods_cidr
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.gke_services_cidr
  }

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# VPCs deny ingress implicitly; this rule says so explicitly and logs what it drops. GKE adds
# its own higher-priority rules for the control plane and node health checks.
resource "google_compute_firewall" "deny_ingress" {
  count = local.use_gke ? 1 : 0

  name      = "${var.name_prefix}-workers-deny-ingress"
  network   = google_compute_network.workers[0].id
  direction = "INGRESS"
  priority  = 65534

  deny {
    protocol = "all"
  }

  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "workers" {
  count = local.use_gke ? 1 : 0

  name    = "${var.name_prefix}-workers"
  region  = var.region
  network = google_compute_network.workers[0].id
}

resource "google_compute_router_nat" "workers" {
  count = local.use_gke ? 1 : 0

  name                               = "${var.name_prefix}-workers"
  router                             = google_compute_router.workers[0].name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

resource "google_container_cluster" "workers" {
  count = local.use_gke ? 1 : 0
  #checkov:skip=CKV_GCP_20:The IP-based control-plane endpoint is disabled; access is only through the DNS endpoint, authorised by Google IAM, so there are no IP ranges to authorise.
  #checkov:skip=CKV_GCP_65:Google Groups for RBAC needs a Workspace group (gke-security-groups@DOMAIN) this configuration cannot assume; access is by IAM roles on the project.
  #checkov:skip=CKV_GCP_12:Autopilot always runs GKE Dataplane V2, which enforces NetworkPolicy; the network_policy block is not allowed on Autopilot.
  #checkov:skip=CKV_GCP_61:Intranode visibility is managed by Autopilot (Dataplane V2) and cannot be set on an Autopilot cluster.
  #checkov:skip=CKV_GCP_69:Autopilot always runs the GKE metadata server (Workload Identity) on every node; node_config cannot be set on Autopilot.

  name     = local.cluster_name
  location = var.region

  enable_autopilot    = true
  deletion_protection = var.deletion_protection
  resource_labels     = local.labels

  network    = google_compute_network.workers[0].id
  subnetwork = google_compute_subnetwork.workers[0].id

  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  private_cluster_config {
    enable_private_nodes = true
  }

  control_plane_endpoints_config {
    dns_endpoint_config {
      allow_external_traffic = true
    }
    ip_endpoints_config {
      enabled = false
    }
  }

  release_channel {
    channel = var.gke_release_channel
  }

  # Always on for Autopilot; stated so the pool name is visible here and in outputs.
  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  # Nodes run as a dedicated account with the minimal node roles, not the Compute Engine
  # default account (which has Editor on the project).
  cluster_autoscaling {
    auto_provisioning_defaults {
      service_account = google_service_account.gke_nodes[0].email
      oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    }
  }

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }

  # The project's Binary Authorization policy is enforced (allow-all until an operator
  # tightens it, e.g. to images from this repository only).
  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }

  dynamic "database_encryption" {
    for_each = local.use_cmek ? [var.kms_key_name] : []
    content {
      state    = "ENCRYPTED"
      key_name = database_encryption.value
    }
  }

  depends_on = [
    google_project_service.enabled,
    google_project_iam_member.gke_nodes,
    google_compute_router_nat.workers,
    google_kms_crypto_key_iam_member.cmek,
  ]
}

# ---- node identity ----

resource "google_service_account" "gke_nodes" {
  count = local.use_gke ? 1 : 0

  account_id   = "${var.name_prefix}-gke-nodes"
  display_name = "AInimal Zookeeper GKE nodes"
  description  = "Node identity of the Autopilot cluster: logs, metrics, image pulls. Pods use Workload Identity instead."

  depends_on = [google_project_service.enabled]
}

# The documented minimal node roles (roles/container.defaultNodeServiceAccount bundles them).
resource "google_project_iam_member" "gke_nodes" {
  count = local.use_gke ? 1 : 0

  project = var.project_id
  role    = "roles/container.defaultNodeServiceAccount"
  member  = google_service_account.gke_nodes[0].member
}

resource "google_artifact_registry_repository_iam_member" "gke_nodes_pull" {
  count = local.use_gke ? 1 : 0

  location   = google_artifact_registry_repository.docker.location
  repository = google_artifact_registry_repository.docker.name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.gke_nodes[0].member
}

# ---- who may do what in the cluster ----

# The function creates and deletes Jobs in the worker namespace and reads their pods. IAM
# cannot be scoped to a namespace; container.developer on the project is the narrowest
# predefined role with those rights. Narrower: container.clusterViewer plus a Kubernetes
# Role in the namespace (README, "Hardening").
resource "google_project_iam_member" "function_gke" {
  count = local.use_gke ? 1 : 0

  project = var.project_id
  role    = "roles/container.developer"
  member  = google_service_account.function.member
}

# Workload Identity: pods running as <worker_namespace>/<worker_ksa> act as the worker
# Google service account. The namespace and Kubernetes service account are created with
# kubectl (README), annotated with iam.gke.io/gcp-service-account.
resource "google_service_account_iam_member" "worker_workload_identity" {
  count = local.use_gke ? 1 : 0

  service_account_id = google_service_account.worker.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.worker_namespace}/${var.worker_ksa}]"

  # The identity pool exists once the cluster does.
  depends_on = [google_container_cluster.workers]
}
