variable "anywhere" {
  type = string
}

resource "clickhouse_service" "analytics" {
  name           = "analytics"
  cloud_provider = "aws"
  region         = "us-east-2"

  # The source comes from terraform.tfvars (line 1).
  ip_access = [
    {
      source      = var.anywhere
      description = "Anywhere"
    },
    {
      source      = "0.0.0.0"
      description = "Anywhere too"
    },
  ]
}

resource "yandex_mdb_clickhouse_cluster" "events" {
  name        = "events"
  environment = "PRODUCTION"
  network_id  = "net"
  host {
    type             = "CLICKHOUSE"
    zone             = "ru-central1-a"
    assign_public_ip = true
  }
}

resource "aiven_clickhouse" "logs" {
  project      = "p"
  cloud_name   = "google-europe-west1"
  plan         = "startup-16"
  service_name = "logs"
  clickhouse_user_config {
    ip_filter_string = ["10.0.0.0/8", "0.0.0.0/0"]
  }
}

resource "alicloud_click_house_db_cluster" "dw" {
  db_cluster_network_type = "vpc"
  db_cluster_access_white_list {
    db_cluster_ip_array_name = "default"
    security_ip_list         = "10.0.0.1,0.0.0.0/0"
  }
}
