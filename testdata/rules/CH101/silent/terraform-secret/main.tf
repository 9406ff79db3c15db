# users.d from a Secret whose text Terraform reads from a file of the
# repository: findings point into that file.
resource "kubernetes_secret_v1" "users" {
  metadata {
    name      = "clickhouse-users"
    namespace = "analytics"
  }
  data = {
    "default.xml" = file("${path.module}/users/default.xml")
  }
}

resource "kubernetes_deployment_v1" "clickhouse" {
  metadata {
    name      = "clickhouse"
    namespace = "analytics"
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
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:25.3"
          volume_mount {
            name       = "users"
            mount_path = "/etc/clickhouse-server/users.d"
          }
        }
        volume {
          name = "users"
          secret {
            secret_name = kubernetes_secret_v1.users.metadata[0].name
          }
        }
      }
    }
  }
}
