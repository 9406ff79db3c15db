# Values this repository cannot know stay unknown; a conditional is known
# when its branches agree.

variable "no_default" {
  type = string
}

variable "from_var_file" {
  type    = string
  default = "default"
}

data "aws_vpc" "main" {
  id = "vpc-123"
}

resource "aws_security_group" "sg" {
  name = "clickhouse"
}

locals {
  agree    = var.no_default == "x" ? ["0.0.0.0/0"] : ["0.0.0.0/0"]
  disagree = var.no_default == "x" ? ["0.0.0.0/0"] : ["10.0.0.0/8"]
  partial  = concat(["0.0.0.0/0"], [data.aws_vpc.main.cidr_block])
  short    = false && var.no_default == "x"
}

output "no_default" { value = var.no_default }
output "data_attr" { value = data.aws_vpc.main.cidr_block }
output "resource_attr" { value = aws_security_group.sg.id }
output "agree" { value = local.agree }
output "disagree" { value = local.disagree }
output "partial" { value = local.partial }
output "short" { value = local.short }
output "from_var_file" { value = var.from_var_file }
output "template" { value = "${var.no_default}-x" }
output "missing_module" { value = module.remote.out }

module "remote" {
  source = "terraform-aws-modules/vpc/aws"
}
