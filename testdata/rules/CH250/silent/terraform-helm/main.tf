# The Bitnami chart behind a load balancer limited to the office network,
# and one whose values come from outside the repository.
variable "extra_values" {
  type = string
}

resource "helm_release" "clickhouse" {
  name       = "clickhouse"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "clickhouse"

  set {
    name  = "service.type"
    value = "LoadBalancer"
  }
  set {
    name  = "service.loadBalancerSourceRanges"
    value = "{203.0.113.0/24}"
  }
}

resource "helm_release" "elsewhere" {
  name       = "clickhouse-elsewhere"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "clickhouse"
  values     = [var.extra_values]
  set {
    name  = "service.type"
    value = "LoadBalancer"
  }
}
