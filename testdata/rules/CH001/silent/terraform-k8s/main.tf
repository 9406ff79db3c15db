variable "service_type" {
  type    = string
  default = "LoadBalancer"
}

locals {
  labels = { app = "clickhouse" }
}

resource "kubernetes_stateful_set_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    service_name = "clickhouse"
    selector {
      match_labels = local.labels
    }
    template {
      metadata {
        labels = local.labels
      }
      spec {
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:24.8"
          port {
            container_port = 8123
          }
          volume_mount {
            name       = "users"
            mount_path = "/etc/clickhouse-server/users.d"
          }
        }
        volume {
          name = "users"
          config_map {
            name = kubernetes_config_map_v1.users.metadata[0].name
          }
        }
      }
    }
  }
}

resource "kubernetes_config_map_v1" "users" {
  metadata {
    name = "clickhouse-users"
  }
  data = {
    "default.xml" = <<-EOT
      <clickhouse>
        <users>
          <default>
            <password></password>
            <networks><ip>::/0</ip></networks>
          </default>
        </users>
      </clickhouse>
    EOT
  }
}

resource "kubernetes_service_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    type     = var.service_type
    load_balancer_source_ranges = ["10.0.0.0/8"]
    selector = local.labels
    port {
      name        = "http"
      port        = 8123
      target_port = 8123
    }
  }
}
