# A module that publishes ClickHouse; the root module that uses it is
# envs/prod (source = "../..").
variable "service_type" {
  type    = string
  default = "ClusterIP"
}

resource "kubernetes_service" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    type = var.service_type
    selector = {
      app = "clickhouse"
    }
    port {
      name = "http"
      port = 8123
    }
  }
}
