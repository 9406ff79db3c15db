variable "allowed" {
  type = string
}

resource "clickhouse_service" "private" {
  name           = "private"
  cloud_provider = "aws"
  region         = "us-east-2"
  ip_access      = []
}

resource "clickhouse_service" "office" {
  name           = "office"
  cloud_provider = "aws"
  region         = "us-east-2"
  ip_access = [
    { source = "203.0.113.0/24", description = "office" },
    { source = var.allowed, description = "from outside the repository" },
  ]
}

resource "yandex_mdb_clickhouse_cluster" "events" {
  name               = "events"
  environment        = "PRODUCTION"
  network_id         = "net"
  security_group_ids = ["sg-clickhouse"]
  host {
    type             = "CLICKHOUSE"
    zone             = "ru-central1-a"
    assign_public_ip = true
  }
}

resource "yandex_mdb_clickhouse_cluster" "internal" {
  name        = "internal"
  environment = "PRODUCTION"
  network_id  = "net"
  host {
    type             = "CLICKHOUSE"
    zone             = "ru-central1-a"
    assign_public_ip = false
  }
}

resource "aiven_clickhouse" "logs" {
  project      = "p"
  cloud_name   = "google-europe-west1"
  plan         = "startup-16"
  service_name = "logs"
  clickhouse_user_config {
    ip_filter_string = ["10.0.0.0/8"]
  }
}
