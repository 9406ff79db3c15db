variable "ranges" {
  type = list(string)
}

resource "kubernetes_service" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    port {
      port = 8123
    }
  }
}

resource "kubernetes_service" "restricted" {
  metadata {
    name = "clickhouse-office"
  }
  spec {
    type                        = "LoadBalancer"
    load_balancer_source_ranges = ["203.0.113.0/24"]
    port {
      port = 8123
    }
  }
}

resource "kubernetes_service" "from_outside" {
  metadata {
    name = "clickhouse-vpn"
  }
  spec {
    type                        = "LoadBalancer"
    load_balancer_source_ranges = var.ranges
    port {
      port = 9000
    }
  }
}

resource "kubernetes_service" "internal" {
  metadata {
    name = "clickhouse-internal"
    annotations = {
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = "internal"
    }
  }
  spec {
    type = "LoadBalancer"
    port {
      port = 8123
    }
  }
}

resource "kubernetes_service" "web" {
  metadata {
    name = "frontend"
  }
  spec {
    type = "LoadBalancer"
    port {
      port = 443
    }
  }
}
