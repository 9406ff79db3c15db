"""Time chlint over a tree against the floor of reading the same bytes."""
import os
import resource
import subprocess
import sys
import time

name, tree, binary = sys.argv[1], sys.argv[2], sys.argv[3]

files = []
for dirpath, _, names in os.walk(tree):
    files.extend(os.path.join(dirpath, n) for n in names)
size = sum(os.path.getsize(f) for f in files)


def read_floor():
    # `cat` every file to /dev/null, as one process (xargs batches).
    start = time.perf_counter()
    subprocess.run(
        f"find {tree} -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True
    )
    return time.perf_counter() - start


def run_chlint():
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([binary, "check", "--format", "json", tree], stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    assert p.returncode in (0, 1), f"chlint exited {p.returncode}"
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before)


read_floor()  # warm the page cache for both
floor = min(read_floor() for _ in range(3))
runs = [run_chlint() for _ in range(3)]
wall = min(r[0] for r in runs)
peak_kb = max(r[1] for r in runs)
print(f"{name}: {len(files)} files, {size / 1e6:.1f} MB")
print(f"  chlint wall      {wall * 1000:8.1f} ms   ({len(files) / wall:,.0f} files/s, {size / 1e6 / wall:.1f} MB/s)")
print(f"  read floor (cat) {floor * 1000:8.1f} ms")
print(f"  ratio to floor   {wall / floor:8.2f}x")
print(f"  peak memory      {peak_kb / 1024:8.1f} MB")
