"""What ClickHouse 26.x (chdb-core, embedded) makes of a configuration.

usage: python chdb_probe.py CONFIG [SETTING ...]

Loads CONFIG the way the server would (merging config.d/, users.d/ and
conf.d/, substituting from_env with this process's environment) and prints
one JSON object: the users (system.users), clusters (system.clusters),
macros (system.macros) and the named server settings
(system.server_settings), or {"error": ...} when ClickHouse refuses the
configuration. Run it from an empty folder: `import chdb` reads
./config.xml. Used by tests/live_chdb.rs.
"""

import json
import sys


def rows(chdb, sql, options):
    out = chdb.query(sql, "JSONEachRow", options=options)
    text = out.data() if hasattr(out, "data") else str(out)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    config, settings = sys.argv[1], sys.argv[2:]
    try:
        import chdb
    except Exception as e:  # an install problem, not a verdict
        print(json.dumps({"import_error": repr(e)}))
        return 3
    options = {"config-file": config}
    result = {}
    try:
        result["users"] = rows(
            chdb,
            "SELECT name, auth_type, host_ip, host_names, host_names_regexp,"
            " host_names_like FROM system.users ORDER BY name",
            options,
        )
        result["clusters"] = rows(
            chdb,
            "SELECT cluster, shard_num, replica_num, host_name, port"
            " FROM system.clusters ORDER BY cluster, shard_num, replica_num",
            options,
        )
        result["macros"] = rows(
            chdb, "SELECT macro, substitution FROM system.macros", options
        )
        result["settings"] = []
        if settings:
            names = ", ".join("'" + s.replace("'", "") + "'" for s in settings)
            result["settings"] = rows(
                chdb,
                "SELECT name, value, changed FROM system.server_settings"
                " WHERE name IN (" + names + ")",
                options,
            )
    except Exception as e:
        result = {"error": str(e)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
