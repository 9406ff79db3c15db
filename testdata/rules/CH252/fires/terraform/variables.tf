variable "allowed_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}

variable "keeper_port" {
  type    = number
  default = 9181
}
