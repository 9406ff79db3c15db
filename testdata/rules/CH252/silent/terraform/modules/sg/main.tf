variable "cidrs" {
  type = list(string)
}

resource "aws_security_group" "interserver" {
  name = "clickhouse-interserver"
  ingress {
    from_port   = 9009
    to_port     = 9009
    protocol    = "tcp"
    cidr_blocks = var.cidrs
  }
}
