# Workloads that run ClickHouse, published by the pod itself (host network,
# a host port) and by a Service that selects them; an operator resource
# given as a Kubernetes manifest.
variable "image" {
  default = "clickhouse/clickhouse-server:24.8"
}

resource "kubernetes_deployment" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    selector {
      match_labels = { app = "clickhouse" }
    }
    template {
      metadata {
        labels = { app = "clickhouse" }
      }
      spec {
        host_network = true
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:25.3"
          env {
            name = "CLICKHOUSE_PASSWORD"
            value_from {
              secret_key_ref {
                name = "clickhouse"
                key  = "password"
              }
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_stateful_set_v1" "replica" {
  metadata {
    name = "replica"
  }
  spec {
    service_name = "replica"
    selector {
      match_labels = { app = "replica" }
    }
    template {
      metadata {
        labels = { app = "replica" }
      }
      spec {
        container {
          name  = "clickhouse"
          image = var.image
          port {
            name           = "native"
            container_port = 9000
            host_port      = 9000
          }
          port {
            name           = "http"
            container_port = 8123
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "replica" {
  metadata {
    name = "replica"
  }
  spec {
    type     = "NodePort"
    selector = { app = "replica" }
    port {
      port        = 8123
      target_port = "http"
    }
  }
}

resource "kubernetes_manifest" "events" {
  manifest = {
    apiVersion = "clickhouse.altinity.com/v1"
    kind       = "ClickHouseInstallation"
    metadata = {
      name = "events"
    }
    spec = {
      defaults = {
        templates = {
          serviceTemplate = "public"
        }
      }
      templates = {
        serviceTemplates = [{
          name = "public"
          spec = {
            type  = "LoadBalancer"
            ports = [{ name = "http", port = 8123 }]
          }
        }]
      }
      configuration = {
        clusters = [{ name = "events" }]
      }
    }
  }
}
