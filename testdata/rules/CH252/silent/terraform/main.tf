resource "aws_security_group" "clickhouse" {
  name = "clickhouse-nodes"

  ingress {
    from_port   = 8123
    to_port     = 8123
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  # SSH and UDP from anywhere are not ClickHouse ports.
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port   = 8123
    to_port     = 8123
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

# A value this repository does not contain.
resource "aws_security_group_rule" "native" {
  security_group_id = aws_security_group.clickhouse.id
  type              = "ingress"
  from_port         = 9000
  to_port           = 9000
  protocol          = "tcp"
  cidr_blocks       = var.from_outside
}

# The conditional chooses the VPC range (nlb_type defaults to internal).
resource "aws_security_group_rule" "nlb" {
  security_group_id = aws_security_group.clickhouse.id
  type              = "ingress"
  from_port         = 8123
  to_port           = 8123
  protocol          = "tcp"
  cidr_blocks       = var.nlb_type == "external" ? ["0.0.0.0/0"] : ["10.0.0.0/16"]
}

# Never created.
resource "aws_security_group_rule" "disabled" {
  count             = 0
  security_group_id = aws_security_group.clickhouse.id
  type              = "ingress"
  from_port         = 8123
  to_port           = 8123
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

# A group for something else on a port ClickHouse shares.
resource "aws_security_group" "minio" {
  name = "minio-api"
  ingress {
    from_port   = 9000
    to_port     = 9000
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "google_compute_firewall" "clickhouse" {
  name          = "clickhouse-native"
  network       = "default"
  disabled      = true
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["9000"]
  }
}

resource "azurerm_network_security_rule" "deny_clickhouse" {
  name                        = "deny-clickhouse"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Deny"
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
  cidrs  = ["10.1.0.0/16"]
}
