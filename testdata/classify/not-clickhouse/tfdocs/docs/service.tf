resource "clickhouse_service" "service" {
  name           = "analytics"
  cloud_provider = "aws"
  ...
}
