variable "default_password" {
  type      = string
  sensitive = true
}

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
  set_sensitive {
    name  = "clickhouse.defaultUser.password"
    value = var.default_password
  }
}
