clickhouse:
  zones:
%{ for zone in zones ~}
    - ${zone}
%{ endfor ~}
  service_type: "${service_type}"
  user: admin
  password: ${password}
