# The manifests of ../yaml/clickhouse.yaml written with the kubernetes
# provider: chlint must find the same things in both.
resource "kubernetes_config_map_v1" "config" {
  metadata {
    name = "clickhouse-config"
  }
  data = {
    "listen.xml" = <<-EOT
      <clickhouse>
        <listen_host>0.0.0.0</listen_host>
        <mysql_port>9004</mysql_port>
      </clickhouse>
    EOT
    "users.xml"  = <<-EOT
      <clickhouse>
        <users>
          <app>
            <password>chlint-equivalent-Xk2</password>
            <networks><ip>::/0</ip></networks>
            <access_management>1</access_management>
          </app>
        </users>
      </clickhouse>
    EOT
  }
}

resource "kubernetes_stateful_set_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    service_name = "clickhouse"
    selector {
      match_labels = {
        app = "clickhouse"
      }
    }
    template {
      metadata {
        labels = {
          app = "clickhouse"
        }
      }
      spec {
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:24.3"
          env {
            name  = "CLICKHOUSE_SKIP_USER_SETUP"
            value = "1"
          }
          port {
            name           = "http"
            container_port = 8123
          }
          port {
            name           = "native"
            container_port = 9000
            host_port      = 9000
          }
          volume_mount {
            name       = "config"
            mount_path = "/etc/clickhouse-server/config.d/listen.xml"
            sub_path   = "listen.xml"
          }
          volume_mount {
            name       = "config"
            mount_path = "/etc/clickhouse-server/users.d/users.xml"
            sub_path   = "users.xml"
          }
        }
        volume {
          name = "config"
          config_map {
            name = kubernetes_config_map_v1.config.metadata[0].name
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    type = "LoadBalancer"
    selector = {
      app = "clickhouse"
    }
    port {
      name        = "http"
      port        = 8123
      target_port = "http"
    }
    port {
      name        = "mysql"
      port        = 9004
      target_port = 9004
    }
  }
}

resource "kubernetes_service_v1" "web" {
  metadata {
    name = "clickhouse-web"
  }
  spec {
    selector = {
      app = "clickhouse"
    }
    port {
      name        = "http"
      port        = 80
      target_port = 8123
    }
  }
}

resource "kubernetes_ingress_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    rule {
      host = "ch.example.com"
      http {
        path {
          path      = "/"
          path_type = "Prefix"
          backend {
            service {
              name = kubernetes_service_v1.web.metadata[0].name
              port {
                number = 80
              }
            }
          }
        }
      }
    }
  }
}
