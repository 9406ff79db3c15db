resource "helm_release" "clickhouse" {
  name       = "clickhouse"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse"
  values = [yamlencode({
    clickhouse = {
      defaultUser = {
        allowExternalAccess = true
      }
      service = {
        type = "LoadBalancer"
      }
    }
  })]
}
