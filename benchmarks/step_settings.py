"""Would XLA, other thread counts or TensorFlow without oneDNN train faster on a CPU?

Usage (repository root, after ``bash scripts/setup.sh``; about 15 minutes on
a 2-core CPU of ~200 GFLOP/s, with the defaults)::

    .venv/bin/python benchmarks/step_settings.py [--seconds 6] [--rounds 4]

Times the training steps of chapter 4's CNN and chapter 7's GAN (the
builders of ``train_step_efficiency.py``) under settings a reader might
reach for to make training faster:

- TensorFlow's defaults, as the book trains. On a machine without a GPU,
  Keras's ``compile(jit_compile="auto")`` leaves XLA off;
- XLA: the same step compiled with ``tf.function(jit_compile=True)``, what
  ``model.compile(jit_compile=True)`` asks for;
- one inter-op thread: TensorFlow runs one operation at a time instead of
  up to one per core;
- one intra-op thread: each operation on one core (the two inter-op
  threads may still run independent operations on both cores);
- oneDNN off (``TF_ENABLE_ONEDNN_OPTS=0``): TensorFlow's own kernels instead
  of Intel's oneDNN library, which x86 builds use by default;
- two processes at once, each on one core (one thread of each kind), timed
  over the same seconds: the sum of their rates is what the machine's cores
  give this step when they share no operation, an upper bound for anything
  that splits the work better between cores.

Thread counts and oneDNN are fixed when TensorFlow starts, so each setting
runs in a fresh process; one process per setting per round, the settings
taking turns round by round so that all of them see the same drift of the
machine. Writes ``benchmarks/step_settings.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from machine import machine_line, matmul_gflops  # noqa: E402
from train_step_efficiency import BATCH_SIZE, cnn_step, gan_step, steps_per_second_in_rounds  # noqa: E402

OUT = Path(__file__).resolve().parent
MODELS = (("Fashion-MNIST CNN", cnn_step), ("GAN (both networks)", gan_step))
#: name: (table text, environment of the fresh process)
SETTINGS: dict[str, tuple[str, dict[str, str]]] = {
    "default": ("TensorFlow's defaults (the book's)", {}),
    "xla": ("XLA (`jit_compile=True`)", {}),
    "inter-op-1": ("one inter-op thread", {}),
    "intra-op-1": ("one intra-op thread (one core per operation)", {}),
    "onednn-off": ("oneDNN off (`TF_ENABLE_ONEDNN_OPTS=0`)", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "two-processes": ("two processes at once, one core each (both together)", {}),
}
#: Seconds the processes of the two-process setting get to start before they time together.
START_MARGIN = 35.0


def images_per_second(setting: str, seconds: float, start_at: float | None = None) -> dict[str, float]:
    """Images/s of each model's training step under ``setting``, in this process (the models taking turns).

    ``"one-core"`` is one process of ``"two-processes"``; it times from
    ``start_at`` (a ``time.time()`` value) so that both time together.
    """
    if setting in ("inter-op-1", "one-core"):  # before TensorFlow's runtime starts, or it refuses
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if setting in ("intra-op-1", "one-core"):
        tf.config.threading.set_intra_op_parallelism_threads(1)
    builds = [(build, build(BATCH_SIZE[build])) for _, build in MODELS]
    rates = steps_per_second_in_rounds(
        [(step, batches) for _, (step, _, batches) in builds], seconds * len(builds), 1,
        jit_compile=setting == "xla", start_at=start_at,
    )
    return {name: rate[0] * BATCH_SIZE[build] for (name, _), (build, _), rate in zip(MODELS, builds, rates)}


def in_fresh_process(setting: str, seconds: float) -> dict[str, float]:
    """:func:`images_per_second` in a fresh Python process with the setting's environment.

    ``"two-processes"`` starts two one-core processes that time over the
    same seconds, and returns the sum of their rates.
    """
    env = {**os.environ, **SETTINGS[setting][1]}
    if setting != "two-processes":
        command = [sys.executable, __file__, "--child", setting, "--seconds", str(seconds)]
        out = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)  # stderr shows
        return json.loads(out.stdout.strip().splitlines()[-1])
    command = [sys.executable, __file__, "--child", "one-core", "--seconds", str(seconds),
               "--start-at", str(time.time() + START_MARGIN)]
    pair = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate()[0] for process in pair]
    if any(process.returncode for process in pair):
        raise RuntimeError(f"a process of the two-process setting failed: {[p.returncode for p in pair]}")
    rates = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    return {name: sum(rate[name] for rate in rates) for name in rates[0]}


def table(results: dict[str, list[dict[str, float]]]) -> list[str]:
    """One row per model and setting: median images/s, range, and the median ratio to the defaults' same round."""
    lines = ["| model | setting | images/s | range | against the defaults |", "|---|---|---:|---:|---:|"]
    for name, _ in MODELS:
        default = [r[name] for r in results["default"]]
        for setting, (text, _) in SETTINGS.items():
            values = [r[name] for r in results[setting]]
            ratio = np.median([v / d for v, d in zip(values, default)])
            lines.append(f"| {name} | {text} | {np.median(values):.0f} | {min(values):.0f}-{max(values):.0f} "
                         f"| {ratio:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="timing of each step per round (default 6)")
    parser.add_argument("--rounds", type=int, default=4, help="turns each setting takes (default 4)")
    parser.add_argument("--child", choices=sorted([*SETTINGS, "one-core"]), help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds <= 0 or args.rounds < 1:
        parser.error("--seconds must be positive and --rounds at least 1")
    if args.child:
        print(json.dumps(images_per_second(args.child, args.seconds, args.start_at)))
        return
    rate = matmul_gflops()
    machine = machine_line(rate)
    print(machine, flush=True)
    results: dict[str, list[dict[str, float]]] = {setting: [] for setting in SETTINGS}
    for round_number in range(args.rounds):
        for setting in SETTINGS:
            results[setting].append(in_fresh_process(setting, args.seconds))
            print(f"round {round_number + 1}, {setting}: "
                  + ", ".join(f"{v:.0f}" for v in results[setting][-1].values()), flush=True)
    rate_after = matmul_gflops()
    one_core = matmul_gflops(threads=1)
    lines = [
        "# Training steps under other compiler and thread settings",
        "",
        f"- {machine}; {rate_after:.0f} GFLOP/s when measured again after the timings, "
        f"{one_core:.0f} GFLOP/s with one intra-op thread (one core)",
        f"- command: `.venv/bin/python benchmarks/step_settings.py --seconds {args.seconds:g} --rounds {args.rounds}`",
        f"- each setting in a fresh process per round, the settings taking turns for {args.rounds} rounds; "
        f"each step timed {args.seconds:g} s per round; images/s of the median round, range from the slowest "
        "round to the fastest; against the defaults: the median over the rounds of the ratio to the "
        "defaults' rate in the same round",
        "",
        *table(results),
    ]
    (OUT / "step_settings.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
