# The same workloads kept inside the cluster: no host network or host
# port, an internal load balancer, a ClusterIP operator Service.
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
        host_network = false
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:25.3"
          port {
            container_port = 8123
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "clickhouse" {
  metadata {
    name = "clickhouse"
    annotations = {
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internal"
    }
  }
  spec {
    type     = "LoadBalancer"
    selector = { app = "clickhouse" }
    port {
      port        = 8123
      target_port = 8123
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
          serviceTemplate = "internal"
        }
      }
      templates = {
        serviceTemplates = [{
          name = "internal"
          spec = {
            type  = "ClusterIP"
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
