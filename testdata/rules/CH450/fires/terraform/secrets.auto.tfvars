etl_password = "chlint-tf-tfvars-Wd6n"
