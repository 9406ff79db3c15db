"""chlint against checkov on the same Terraform and Kubernetes files.

checkov runs with --skip-download (no call to its platform for guidelines:
the time measured is its own work, not a network wait) and JSON output, as
chlint does; each run's output is parsed to make sure it checked something
rather than failed early. The fastest of several runs of each is kept.
"""
import json
import os
import subprocess
import sys
import time

binary, checkov = sys.argv[1], sys.argv[2]
# checkov skips folders whose path has a component starting with a dot:
# given `../corpus/k8s`, it checks nothing.
corpus = os.path.realpath(sys.argv[3])


def timed(cmd):
    start = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, p


def checkov_results(stdout):
    """Checks passed and failed in checkov's JSON (one report or a list)."""
    reports = json.loads(stdout or b"[]")
    if isinstance(reports, dict):
        reports = [reports]
    return sum(
        r.get("summary", {}).get("passed", 0) + r.get("summary", {}).get("failed", 0)
        for r in reports
    )


for folder, framework in [("terraform", "terraform"), ("k8s", "kubernetes")]:
    path = f"{corpus}/{folder}"
    ours = []
    for _ in range(5):
        wall, p = timed([binary, "check", "--format", "json", path])
        assert p.returncode in (0, 1), f"chlint exited {p.returncode}"
        ours.append(wall)
    theirs, empty = [], 0
    for _ in range(4):
        wall, p = timed(
            [checkov, "-d", path, "--framework", framework, "--quiet", "--compact",
             "-o", "json", "--skip-download"]
        )
        try:
            checks = checkov_results(p.stdout) if p.returncode in (0, 1) else 0
        except ValueError:
            checks = 0
        if checks == 0:
            # A run that failed or checked nothing is not a time of checkov's.
            empty += 1
            continue
        theirs.append((wall, checks))
    if not theirs:
        print(f"{folder}: checkov checked nothing in {empty} runs")
        continue
    ours = min(ours)
    theirs, checks = min(theirs)
    if empty:
        print(f"  ({empty} checkov run(s) that checked nothing left out)")
    print(f"{folder}: chlint {ours * 1000:.1f} ms, checkov {theirs * 1000:.0f} ms "
          f"({checks} checks), chlint {theirs / ours:,.0f}x faster")
