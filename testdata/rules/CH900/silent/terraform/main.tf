variable "cidrs" {
  type    = list(string)
  default = ["10.0.0.0/8"]
}

resource "aws_security_group_rule" "clickhouse_http" {
  type        = "ingress"
  from_port   = 8123
  to_port     = 8123
  protocol    = "tcp"
  cidr_blocks = var.cidrs
}
