# Everything that would publish ClickHouse rests on a value this folder
# does not contain: nothing may be reported.
variable "image" {
  type = string
}

variable "values" {
  type = string
}

variable "key" {
  type = string
}

variable "replicas" {
  type = number
}

variable "service_type" {
  type = string
}

# The image is unknown: whether it runs ClickHouse, and which, is unknown.
resource "kubernetes_deployment_v1" "unknown_image" {
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
          image = var.image
        }
      }
    }
  }
}

# It may not exist at all.
resource "kubernetes_pod_v1" "maybe" {
  count = var.replicas > 0 ? 1 : 0
  metadata {
    name = "clickhouse-maybe"
  }
  spec {
    host_network = true
    container {
      name  = "clickhouse"
      image = "clickhouse/clickhouse-server:23.8"
    }
  }
}

# The Service's type is unknown.
resource "kubernetes_pod_v1" "known" {
  metadata {
    name   = "clickhouse-known"
    labels = { app = "known" }
  }
  spec {
    container {
      name  = "clickhouse"
      image = "clickhouse/clickhouse-server:25.3"
      env {
        name  = "CLICKHOUSE_PASSWORD"
        value = var.key
      }
    }
  }
}

resource "kubernetes_service_v1" "known" {
  metadata {
    name = "clickhouse-known"
  }
  spec {
    type     = var.service_type
    selector = { app = "known" }
    port {
      port = 8123
    }
  }
}

# Values from outside could set anything; so could a `set` with an unknown name.
resource "helm_release" "values_from_outside" {
  name       = "a"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  values     = [var.values]
  set {
    name  = "service.type"
    value = "LoadBalancer"
  }
}

resource "helm_release" "unknown_key" {
  name       = "b"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  set {
    name  = var.key
    value = "LoadBalancer"
  }
}

# A template whose unknown part stands for a whole block of values.
resource "helm_release" "unknown_block" {
  name       = "c"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  values = [<<-EOT
    service:
      type: LoadBalancer
    ${var.values}
  EOT
  ]
}

# An annotation that may make the load balancer internal, and a host port,
# from outside.
variable "scheme" {
  type = string
}

variable "host_port" {
  type = number
}

resource "kubernetes_pod_v1" "annotated" {
  metadata {
    name   = "clickhouse-annotated"
    labels = { app = "annotated" }
  }
  spec {
    container {
      name  = "clickhouse"
      image = "clickhouse/clickhouse-server:25.3"
      port {
        container_port = 8123
        host_port      = var.host_port
      }
    }
  }
}

resource "kubernetes_service_v1" "annotated" {
  metadata {
    name = "clickhouse-annotated"
    annotations = {
      "service.beta.kubernetes.io/aws-load-balancer-scheme" = var.scheme
    }
  }
  spec {
    type     = "LoadBalancer"
    selector = { app = "annotated" }
    port {
      port = 8123
    }
  }
}
