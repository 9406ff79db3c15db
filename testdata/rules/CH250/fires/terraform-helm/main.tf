# The Bitnami chart with its Service made a load balancer by a `set`, and
# per-replica external access from a values file.
resource "helm_release" "clickhouse" {
  name       = "clickhouse"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "clickhouse"
  version    = "9.1.0"

  set {
    name  = "service.type"
    value = "LoadBalancer"
  }
}

resource "helm_release" "legacy" {
  name       = "clickhouse-legacy"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  version    = "6.2.0"
  values     = [file("${path.module}/legacy-values.yaml")]
}
