"""chlint against checkov on the same Terraform and Kubernetes files."""
import subprocess
import sys
import time

binary, checkov, corpus = sys.argv[1], sys.argv[2], sys.argv[3]


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


for folder, framework in [("terraform", "terraform"), ("k8s", "kubernetes")]:
    path = f"{corpus}/{folder}"
    ours = min(timed([binary, "check", "--format", "json", path]) for _ in range(5))
    theirs = min(
        timed([checkov, "-d", path, "--framework", framework, "--quiet", "-o", "json"])
        for _ in range(2)
    )
    print(f"{folder}: chlint {ours * 1000:.1f} ms, checkov {theirs * 1000:.0f} ms, "
          f"chlint {theirs / ours:,.0f}x faster")
