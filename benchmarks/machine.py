"""What machine a benchmark ran on, and how fast it multiplies matrices.

Timings differ several-fold between machines, so every benchmark reports its
seconds together with this machine's float32 matmul rate, measured in the
same run by the same TensorFlow.  Run alone, it prints this machine's line,
to compare a laptop with the machine of ``benchmarks/README.md``::

    .venv/bin/python benchmarks/machine.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best-of-5 float32 matmul rate of TensorFlow here, in GFLOP/s (fresh process)."""
    code = f"""
import os, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
a = tf.random.normal(({n}, {n})); b = tf.random.normal(({n}, {n}))
f = tf.function(lambda a, b: tf.matmul(a, b)); f(a, b).numpy()
best = 0.0
for _ in range(5):
    t = time.perf_counter()
    for _ in range({repeats}): c = f(a, b)
    c.numpy(); best = max(best, {repeats} * 2 * {n}**3 / (time.perf_counter() - t) / 1e9)
print(best)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, or what ``platform`` knows elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(gflops: float | None = None) -> str:
    rate = matmul_gflops() if gflops is None else gflops
    return f"machine: {cpu_name()}, {os.cpu_count()} CPUs, fp32 matmul {rate:.0f} GFLOP/s (TensorFlow, 2048x2048)"


if __name__ == "__main__":
    print(machine_line())
