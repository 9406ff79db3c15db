# Locals, variables, outputs and terraform_data only: `terraform plan`
# evaluates this offline, and tests/terraform.rs compares its outputs with
# chlint's evaluation.

variable "ports" {
  type    = list(number)
  default = [8123, 9000]
}

variable "cidr" {
  type    = string
  default = "0.0.0.0/0"
}

variable "env" {
  type = string
}

variable "enable" {
  type    = bool
  default = false
}

variable "nlb_type" {
  type    = string
  default = "internal"
}

variable "settings" {
  type = object({
    enabled     = bool
    cidr_blocks = list(string)
  })
  default = {
    enabled     = true
    cidr_blocks = ["192.168.0.0/16"]
  }
}

locals {
  cidrs    = concat([var.cidr], ["10.0.0.0/8"], var.settings.cidr_blocks)
  name     = "clickhouse-${var.env}"
  endpoint = format("%s:%d", local.name, var.ports[0])
  set      = toset(["b", "a", "b"])
  json     = jsonencode({ b = [1, 2], a = "x<y&z", c = null, d = true })
  yaml = yamlencode({
    service = { type = "LoadBalancer", ports = [8123, 9000] }
    auth    = { password = "", enabled = false }
    list    = [{ a = 1, b = "two" }, "three"]
    empty   = []
  })
  merged  = merge({ a = 1, z = "keep" }, { b = 2 }, { a = 3 })
  looked  = lookup({ a = "x" }, "b", "default")
  toggled = var.enable ? "on" : "off"
  chosen  = var.nlb_type == "external" ? ["0.0.0.0/0"] : ["10.0.0.0/16"]
  rules   = [for p in var.ports : { port = p, cidr = var.cidr } if p != 9000]
  by_port = { for p in var.ports : tostring(p) => p * 2 }
  joined  = join(",", [for c in local.cidrs : upper(c)])
  ssh     = var.settings.enabled ? distinct(concat(var.settings.cidr_blocks, ["10.0.0.0/8", "10.0.0.0/8"])) : []
  heredoc = <<-EOT
    listen: ${var.cidr}
    %{if var.enable}enabled: true%{else}enabled: false%{endif}
      nested: ${var.ports[0]}
  EOT
  stripped = "ports:%{for p in var.ports~}   [${p}]   %{~endfor~}  end  %{if var.enable~}  on  %{~else}off%{endif}" 
  # A strip marker strips up to the next line break only (Helm values
  # rendered from a list, as the Altinity EKS module does).
  strip_lines = <<EOT
zones:
%{for p in var.ports~}
  - ${p}
%{endfor~}
next: 1
tail:   
  %{~if var.enable~}
  yes
  %{~endif}
end
EOT
  decoded = yamldecode("name: x\nitems:\n  - a\n  - b\nnested:\n  key: v\n")
  arith   = (var.ports[1] - var.ports[0]) % 7 + length(local.cidrs)
  splat   = [for r in local.rules : r][*].port
  flat    = flatten([[1, 2], [3, [4]]])
  keys    = keys({ z = 1, a = 2 })
  tried   = try(var.settings.missing, "fallback")
  can_it  = can(var.settings.missing)
}

module "sg" {
  source = "./modules/sg"
  cidrs  = local.cidrs
  port   = var.ports[1]
}

resource "terraform_data" "rule" {
  input = {
    from_port   = var.ports[0]
    to_port     = var.ports[0]
    cidr_blocks = module.sg.world
    description = local.endpoint
  }
}

output "cidrs" { value = local.cidrs }
output "name" { value = local.name }
output "endpoint" { value = local.endpoint }
output "set" { value = local.set }
output "json" { value = local.json }
output "yaml" { value = local.yaml }
output "merged" { value = local.merged }
output "looked" { value = local.looked }
output "toggled" { value = local.toggled }
output "chosen" { value = local.chosen }
output "rules" { value = local.rules }
output "by_port" { value = local.by_port }
output "joined" { value = local.joined }
output "ssh" { value = local.ssh }
output "heredoc" { value = local.heredoc }
output "stripped" { value = local.stripped }
output "strip_lines" { value = local.strip_lines }
output "decoded" { value = local.decoded }
output "arith" { value = local.arith }
output "splat" { value = local.splat }
output "flat" { value = local.flat }
output "keys" { value = local.keys }
output "tried" { value = local.tried }
output "can_it" { value = local.can_it }
output "module_rule" { value = module.sg.rule }
output "module_world" { value = module.sg.world }
