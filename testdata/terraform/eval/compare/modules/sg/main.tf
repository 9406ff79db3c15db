variable "cidrs" {
  type = list(string)
}

variable "port" {
  type    = number
  default = 8123
}

variable "protocol" {
  type    = string
  default = "tcp"
}

locals {
  world = [for c in var.cidrs : c if c == "0.0.0.0/0" || c == "::/0"]
}

output "rule" {
  value = {
    port     = var.port
    protocol = var.protocol
    sources  = var.cidrs
  }
}

output "world" {
  value = local.world
}
