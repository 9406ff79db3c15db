module "clickhouse" {
  source = "../.."
  # chlint: ignore[service-exposed-publicly] the load balancer is internal to the VPC
  service_type = "LoadBalancer"
}

module "clickhouse_public" {
  source       = "../.."
  service_type = "NodePort"
}
