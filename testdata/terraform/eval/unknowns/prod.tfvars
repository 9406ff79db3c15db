from_var_file = "from --var-file"
