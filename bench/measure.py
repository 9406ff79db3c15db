"""Time chlint over a tree against the floor of reading the same bytes.

Every figure is per run: the wall time of one process and the peak resident
memory of that process alone (os.wait4's rusage for its pid; the
RUSAGE_CHILDREN figure would be the largest of every child reaped so far).
The page cache is warmed first, both are run several times, and the
fastest run of each is kept (other work on the machine only slows a run).
"""
import json
import os
import subprocess
import sys
import time

name, tree, binary = sys.argv[1], sys.argv[2], sys.argv[3]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))

files = []
for dirpath, _, names in os.walk(tree):
    files.extend(os.path.join(dirpath, n) for n in names)
size = sum(os.path.getsize(f) for f in files)


def timed(argv, **kwargs):
    """Wall seconds and peak RSS (KiB, Linux) of one process."""
    start = time.perf_counter()
    p = subprocess.Popen(argv, **kwargs)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, p.returncode


def read_floor():
    # `cat` every file to /dev/null, as one pipeline (xargs batches).
    wall, _, code = timed(
        ["sh", "-c", 'find "$1" -type f -print0 | xargs -0 cat > /dev/null', "sh", tree]
    )
    assert code == 0, f"read floor exited {code}"
    return wall


def run_chlint():
    wall, peak, code = timed(
        [binary, "check", "--format", "json", tree], stdout=subprocess.DEVNULL
    )
    assert code in (0, 1), f"chlint exited {code}"
    return wall, peak


def findings_and_phases():
    """One more run, for what it found (a bound that cut the work short
    shows as CH900 findings) and where its time went (CHLINT_PHASES)."""
    p = subprocess.run(
        [binary, "check", "--format", "json", tree],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CHLINT_PHASES": "1"},
    )
    found = json.loads(p.stdout)["findings"]
    ch900 = sum(1 for f in found if f["rule"] == "CH900")
    phases, last = [], 0.0
    for line in p.stderr.decode().splitlines():
        parts = line.split()
        if parts[:2] != ["chlint:", "phase"]:
            continue
        at = float(parts[2])
        phases.append(f"{' '.join(parts[6:])} {at - last:.0f}")
        last = at
    return len(found), ch900, phases


read_floor()  # warm the page cache for both
run_chlint()
floors, runs = [], []
for _ in range(RUNS):  # interleaved, so that a busy moment hits both
    floors.append(read_floor())
    runs.append(run_chlint())
floor = min(floors)
wall = min(r[0] for r in runs)
peak_kb = max(r[1] for r in runs)
print(f"{name}: {len(files)} files, {size / 1e6:.1f} MB")
print(f"  chlint wall      {wall * 1000:8.1f} ms   ({len(files) / wall:,.0f} files/s, {size / 1e6 / wall:.1f} MB/s)")
print(f"  read floor (cat) {floor * 1000:8.1f} ms")
print(f"  ratio to floor   {wall / floor:8.2f}x")
print(f"  peak memory      {peak_kb / 1024:8.1f} MB   (largest of {RUNS} runs)")
count, ch900, phases = findings_and_phases()
print(f"  findings         {count:8,}   ({ch900:,} CH900: files not parsed or not checked)")
print(f"  phases (ms, one run): {', '.join(phases[1:])}")
