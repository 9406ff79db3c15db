variable "allowed_cidrs" {
  type    = list(string)
  default = ["10.0.0.0/8"]
}

variable "from_outside" {
  type = list(string)
}

variable "nlb_type" {
  type    = string
  default = "internal"
}
