module "again" {
  source = "./"
}

output "x" { value = module.again.x }
