# Passwords from outside the repository: a sensitive variable without a
# default, an existing Secret, a template rendered around a value Terraform
# generates.
variable "default_password" {
  type      = string
  sensitive = true
}

resource "random_password" "admin" {
  length = 24
}

resource "helm_release" "altinity" {
  name       = "events"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse"
  set_sensitive {
    name  = "clickhouse.defaultUser.password"
    value = var.default_password
  }
}

resource "helm_release" "bitnami" {
  name       = "clickhouse"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "clickhouse"
  set {
    name  = "auth.existingSecret"
    value = "clickhouse-admin"
  }
}

resource "helm_release" "eks" {
  name       = "eks"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse-eks"
  values = [<<-EOT
    clickhouse:
      user: admin
      password: ${random_password.admin.result}
  EOT
  ]
}
