enable = true
