# Passwords that reach a chart from this repository: in values written in a
# heredoc, in set_sensitive (which hides a value from terraform's output,
# not from the repository), and from a sensitive variable's default.
variable "app_password" {
  type      = string
  sensitive = true
  default   = "chlint-tf-sensdefault-Ry8u"
}

resource "helm_release" "bitnami" {
  name       = "clickhouse"
  repository = "oci://registry-1.docker.io/bitnamicharts"
  chart      = "clickhouse"
  values = [<<-EOT
    auth:
      username: admin
      password: chlint-tf-values-Lp4d
  EOT
  ]
}

resource "helm_release" "altinity" {
  name       = "events"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse"
  set_sensitive {
    name  = "clickhouse.defaultUser.password"
    value = "chlint-tf-sensitive-Tg3k"
  }
  set_sensitive {
    name  = "clickhouse.users[0].name"
    value = "chlint-tf-sensname-Mw2b"
  }
  set_sensitive {
    name  = "clickhouse.clusterSecret.enabled"
    value = "true"
  }
  set_sensitive {
    name  = "clickhouse.clusterSecret.auto"
    value = "false"
  }
  set_sensitive {
    name  = "clickhouse.clusterSecret.value"
    value = var.app_password
  }
}

# A password under a key the chart does not read is in the repository too.
resource "helm_release" "altinity_values" {
  name       = "reports"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse"
  values = [yamlencode({
    configuration = {
      users = {
        "default/password" = "chlint-tf-yamlencode-Hn6c"
      }
    }
  })]
}
