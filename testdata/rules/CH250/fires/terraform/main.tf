resource "kubernetes_service" "clickhouse" {
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
      target_port = 8123
    }
    port {
      name = "native"
      port = 9000
    }
  }
}

resource "kubernetes_service_v1" "keeper" {
  metadata {
    name = "keeper"
  }
  spec {
    type = "NodePort"
    port {
      port      = 9181
      node_port = 30181
    }
  }
}
