# Cycles, runaway functions and self-calling modules end, unknown.
locals {
  a     = local.b
  b     = local.a
  big   = range(1000000000)
  many  = [for i in range(5) : format("%099999d", i)]
  cidrs = local.a
}

module "self" {
  source = "./self"
}

resource "aws_security_group_rule" "cyclic" {
  type        = "ingress"
  from_port   = 8123
  to_port     = 8123
  protocol    = "tcp"
  cidr_blocks = local.cidrs
}

output "a" { value = local.a }
output "big" { value = local.big }
