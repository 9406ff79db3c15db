variable "admin_password" {
  type      = string
  sensitive = true
  default   = "chlint-tf-default-Kp3x"
}

variable "etl_password" {
  type      = string
  sensitive = true
}

provider "clickhouse" {
  organization_id = "org"
  token_key       = "key"
  token_secret    = "chlint-tf-token-Vb7q"
}

resource "clickhouse_service" "analytics" {
  name           = "analytics"
  cloud_provider = "aws"
  region         = "us-east-2"
  password       = "chlint-tf-literal-Zm2w"
  ip_access      = []
}

resource "clickhouse_service" "reporting" {
  name           = "reporting"
  cloud_provider = "aws"
  region         = "us-east-2"
  password_hash  = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="
  ip_access      = []
}

resource "yandex_mdb_clickhouse_cluster" "events" {
  name        = "events"
  environment = "PRODUCTION"
  network_id  = "net"
  user {
    name     = "admin"
    password = var.admin_password
  }
  user {
    name     = "etl"
    password = var.etl_password
  }
}

resource "helm_release" "clickhouse" {
  name  = "clickhouse"
  chart = "clickhouse"
  set {
    name  = "auth.password"
    value = "chlint-tf-helm-Qa9e"
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
            name  = "CLICKHOUSE_PASSWORD"
            value = "chlint-tf-env-Hs4t"
          }
        }
      }
    }
  }
}
