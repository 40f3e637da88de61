"""What machine a benchmark ran on, and how fast it multiplies matrices.

Timings differ several-fold between machines, so every benchmark reports its
seconds together with this machine's float32 matmul rate, measured in the
same run by the same TensorFlow.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path


def matmul_gflops(n: int = 2048, repeats: int = 10, dtype: str = "float32", threads: int = 0) -> float:
    """Best-of-5 matmul rate of TensorFlow here in ``dtype``, in GFLOP/s (fresh process).

    ``threads`` > 0 limits the matmul to that many intra-op threads (cores).
    """
    code = f"""
import os, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
if {int(threads)}: tf.config.threading.set_intra_op_parallelism_threads({int(threads)})
a = tf.cast(tf.random.normal(({n}, {n})), "{dtype}"); b = tf.cast(tf.random.normal(({n}, {n})), "{dtype}")
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


def cpu_flags() -> set[str]:
    """The instruction-set flags of this CPU (``avx512_bf16``, say); empty where /proc/cpuinfo is missing."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_name() -> str:
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
