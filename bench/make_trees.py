"""Build the benchmark trees: the real corpus replicated in nested folders
(about 6,000 files / 75 MB) and a synthetic tree of 10,000+ files."""
import os
import random
import shutil
import sys

corpus, out = sys.argv[1], sys.argv[2]
COPIES = 51


def corpus_tree(dest):
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for i in range(COPIES):
        # nested: team/service/env/... like a monorepo
        target = os.path.join(dest, f"team{i % 7}", f"service{i}", "deploy", "env")
        shutil.copytree(corpus, target)


USERS = """<clickhouse>
  <profiles><default/><readonly><readonly>1</readonly></readonly></profiles>
  <users>
    <default>
      <password_sha256_hex>{hash}</password_sha256_hex>
      <networks><ip>10.{a}.0.0/16</ip></networks>
      <profile>default</profile><quota>default</quota>
    </default>
  </users>
  <quotas><default/></quotas>
</clickhouse>
"""
CONFIG = """<clickhouse>
  <logger><level>information</level></logger>
  <http_port>8123</http_port>
  <tcp_port>9000</tcp_port>
  <path>/var/lib/clickhouse/</path>
  <user_directories><users_xml><path>users.xml</path></users_xml></user_directories>
  <remote_servers>
    <c{n}>
{shards}
    </c{n}>
  </remote_servers>
</clickhouse>
"""
LISTEN = """<clickhouse>
  <listen_host>{addr}</listen_host>
</clickhouse>
"""
EXTRA_USER = """<clickhouse>
  <users>
    <app{n}>
      <password>{pw}</password>
      <networks><ip>::/0</ip></networks>
    </app{n}>
  </users>
</clickhouse>
"""
YAML = """listen_host: ['{addr}']
logger:
  level: warning
macros:
  shard: '{n}'
  replica: r{n}
"""


def synthetic_tree(dest, servers=2600):
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    rnd = random.Random(7)
    for n in range(servers):
        d = os.path.join(dest, f"group{n % 40}", f"server{n}")
        os.makedirs(os.path.join(d, "config.d"))
        os.makedirs(os.path.join(d, "users.d"))
        shards = "\n".join(
            f"      <shard><replica><host>ch{n}-{s}.internal</host><port>9440</port><secure>1</secure></replica></shard>"
            for s in range(rnd.randint(1, 6))
        )
        files = {
            "config.xml": CONFIG.format(n=n, shards=shards),
            "users.xml": USERS.format(hash="%064x" % rnd.getrandbits(256), a=n % 250),
            "config.d/listen.xml": LISTEN.format(addr=rnd.choice(["0.0.0.0", "10.0.3.7", "::"])),
            "config.d/macros.yaml": YAML.format(addr="10.0.0.%d" % (n % 250), n=n),
            "users.d/app.xml": EXTRA_USER.format(n=n, pw="pw%08x" % rnd.getrandbits(32)),
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)


corpus_tree(os.path.join(out, "corpus-tree"))
synthetic_tree(os.path.join(out, "synthetic-tree"))
