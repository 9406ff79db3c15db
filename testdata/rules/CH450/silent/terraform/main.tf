variable "admin_password" {
  type      = string
  sensitive = true
}

resource "random_password" "etl" {
  length = 32
}

provider "clickhouse" {
  organization_id = "org"
  token_key       = "key"
  token_secret    = var.admin_password
}

resource "clickhouse_service" "analytics" {
  name                = "analytics"
  cloud_provider      = "aws"
  region              = "us-east-2"
  password_wo         = var.admin_password
  password_wo_version = 1
  ip_access           = []
}

resource "clickhouse_service" "reporting" {
  name           = "reporting"
  cloud_provider = "aws"
  region         = "us-east-2"
  password_hash  = "8Bbca6ZHkSpn0TqzXsNr5N+aTTWDRnzBQn/OzmVFOZ0="
  ip_access      = []
}

resource "yandex_mdb_clickhouse_cluster" "events" {
  name        = "events"
  environment = "PRODUCTION"
  network_id  = "net"
  user {
    name     = "etl"
    password = random_password.etl.result
  }
  user {
    name     = "readonly"
    password = ""
  }
}

resource "helm_release" "clickhouse" {
  name  = "clickhouse"
  chart = "clickhouse"
  set_sensitive {
    name  = "auth.password"
    value = var.admin_password
  }
  set {
    name  = "auth.existingSecret"
    value = "clickhouse-auth"
  }
}

resource "kubernetes_deployment" "clickhouse" {
  metadata {
    name = "clickhouse"
  }
  spec {
    template {
      spec {
        container {
          name  = "clickhouse"
          image = "clickhouse/clickhouse-server:25.3"
          env {
            name = "CLICKHOUSE_PASSWORD"
            value_from {
              secret_key_ref {
                name = "clickhouse"
                key  = "password"
              }
            }
          }
        }
      }
    }
  }
}
