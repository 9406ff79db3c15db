resource "aws_security_group" "clickhouse" {
  name        = "clickhouse-nodes"
  description = "ClickHouse servers"

  # The world comes from the variable default (variables.tf line 3).
  ingress {
    from_port   = 8123
    to_port     = 8123
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  ingress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    ipv6_cidr_blocks = ["::/0"]
  }

  dynamic "ingress" {
    for_each = [9004, 9005]
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}

resource "aws_security_group_rule" "keeper" {
  security_group_id = aws_security_group.clickhouse.id
  type              = "ingress"
  from_port         = var.keeper_port
  to_port           = var.keeper_port
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/8", "0.0.0.0/0"]
}

resource "aws_vpc_security_group_ingress_rule" "native_tls" {
  security_group_id = aws_security_group.clickhouse.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 9440
  to_port           = 9440
}

resource "google_compute_firewall" "clickhouse" {
  name          = "clickhouse-native"
  network       = "default"
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["9000-9010"]
  }
}

resource "azurerm_network_security_rule" "clickhouse_http" {
  name                        = "clickhouse-http"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "8123"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = "rg"
  network_security_group_name = "nsg"
}

module "replication" {
  source = "./modules/sg"
  cidrs  = ["0.0.0.0/0"]
}
