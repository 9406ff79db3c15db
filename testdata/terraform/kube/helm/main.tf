# Helm values merged as the helm provider passes them: `values` in order,
# then `set`. Only `overridden` ends with a public Service.
variable "public" {
  type    = bool
  default = true
}

resource "random_password" "admin" {
  length = 24
}

# values.yaml says NodePort, yamlencode says LoadBalancer, `set` says ClusterIP.
resource "helm_release" "settled" {
  name       = "settled"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  values = [
    file("${path.module}/values.yaml"),
    yamlencode({ service = { type = "LoadBalancer" } }),
  ]
  set {
    name  = "service.type"
    value = "ClusterIP"
  }
}

# values.yaml says NodePort, the later heredoc LoadBalancer.
resource "helm_release" "overridden" {
  name       = "overridden"
  repository = "https://charts.bitnami.com/bitnami"
  chart      = "clickhouse"
  values = [
    file("${path.module}/values.yaml"),
    <<-EOT
      service:
        type: LoadBalancer
    EOT
  ]
}

# The EKS chart's values from a template: the password Terraform
# generates is unknown, the Service type is the variable's choice.
resource "helm_release" "templated" {
  name       = "templated"
  repository = "https://helm.altinity.com"
  chart      = "clickhouse-eks"
  values = [templatefile("${path.module}/eks.yaml.tpl", {
    zones        = ["eu-west-1a", "eu-west-1b"]
    service_type = var.public ? "loadbalancer-external" : "cluster-ip"
    password     = random_password.admin.result
  })]
}
