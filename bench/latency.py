"""Latency of a one-file call (what a pre-commit hook pays per commit)."""
import statistics
import subprocess
import sys
import time

binary, path = sys.argv[1], sys.argv[2]
samples = []
for _ in range(60):
    start = time.perf_counter()
    subprocess.run([binary, "check", path], stdout=subprocess.DEVNULL)
    samples.append(time.perf_counter() - start)
samples = samples[10:]
print(f"one-file call: median {statistics.median(samples) * 1000:.2f} ms, "
      f"p95 {sorted(samples)[int(len(samples) * 0.95)] * 1000:.2f} ms ({len(samples)} runs)")
