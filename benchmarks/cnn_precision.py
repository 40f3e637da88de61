"""Does bfloat16 make chapter 4's CNN faster on a CPU? float32 against mixed_bfloat16.

Usage (repository root, after ``bash scripts/setup.sh``; about 12 minutes on
a 2-core CPU of ~200 GFLOP/s)::

    .venv/bin/python benchmarks/cnn_precision.py [--runs float32:10 mixed_bfloat16:12] [--rounds 6]

Keras's ``mixed_bfloat16`` policy computes in 16-bit bfloat16 and keeps the
weights in float32. Whether that pays depends on the CPU: with bfloat16
instructions (AVX512_BF16, AMX) oneDNN's convolutions run on them; without
them oneDNN presumably has to convert the values, and the gain can turn into
a loss. Two parts:

1. speed: images per second of the two precisions' training epochs, taking
   turns (``input_pipeline.rates_in_rounds``) in a fresh process. On a CPU
   with bfloat16 instructions the same is measured a second time with oneDNN
   limited to AVX-512 without them (``ONEDNN_MAX_CPU_ISA=AVX512_CORE``), a
   stand-in for the many CPUs that lack them.
2. quality: chapter 4's recipe (``cnn.FASHION_TRAINING``) trained by
   :func:`visionbook.cnn.train_fashion_cnn` with each precision and number of
   epochs: training seconds, fastest epoch, test accuracy.

Nothing is stored. Writes ``benchmarks/cnn_precision.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow first)
import keras
import numpy as np

from cnn_widths import EpochClock
from input_pipeline import rates_in_rounds
from machine import cpu_flags, machine_line, matmul_gflops
from visionbook import cnn, data

OUT = Path(__file__).resolve().parent
#: (precision, epochs) of the quality runs: the book's float32 recipe, and
#: bfloat16 for the same epochs and for the one or two more that its speed buys.
RUNS = (("float32", 10), ("mixed_bfloat16", 10), ("mixed_bfloat16", 11), ("mixed_bfloat16", 12))
BF16_INSTRUCTIONS = ("avx512_bf16", "amx_bf16")
SPEED_IMAGES = 15360
ROUNDS = 6


def run(text: str) -> tuple[str, int]:
    """``"mixed_bfloat16:12"`` as ``("mixed_bfloat16", 12)``: an argparse type."""
    precision, _, epochs = text.partition(":")
    if precision not in cnn.PRECISIONS or not epochs.isdigit() or int(epochs) < 1:
        raise argparse.ArgumentTypeError(
            f"a run is PRECISION:EPOCHS with PRECISION one of {', '.join(cnn.PRECISIONS)}, got {text!r}"
        )
    return precision, int(epochs)


def speed_in_this_process(rounds: int) -> dict[str, list[float]]:
    """Images/s of one epoch of each precision per round, the two taking turns."""
    (x, y), _ = data.fashion_mnist_for_training()
    x, y = x[:SPEED_IMAGES], y[:SPEED_IMAGES]
    batch = cnn.FASHION_TRAINING["batch_size"]
    runs = []
    for precision in cnn.PRECISIONS:
        keras.utils.set_random_seed(visionbook.SEED)
        with cnn.dtype_policy(precision):
            model = cnn.compile_classifier(cnn.create_fashion_cnn(), 1e-3)
        batches = data.batches_like_fit(x, y, batch)  # fed as chapter 4 feeds it
        runs.append(("CNN", precision,
                     lambda model=model, batches=batches: model.fit(batches, epochs=1, verbose=0, shuffle=False)))
    rates = rates_in_rounds(runs, SPEED_IMAGES, rounds)
    return dict(zip(cnn.PRECISIONS, rates))


def speed(rounds: int, isa: str | None) -> dict[str, list[float]]:
    """:func:`speed_in_this_process` in a fresh process, with oneDNN limited to ``isa`` if given."""
    env = dict(os.environ)
    if isa:
        env["ONEDNN_MAX_CPU_ISA"] = isa  # read when TensorFlow starts, hence the fresh process
    command = [sys.executable, __file__, "--speed-only", "--rounds", str(rounds)]
    out = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)  # stderr shows
    return json.loads(out.stdout.strip().splitlines()[-1])


def train(precision: str, epochs: int) -> dict[str, float]:
    """Chapter 4's recipe in ``precision`` for ``epochs``: seconds, fastest epoch, test accuracy."""
    settings = {k: v for k, v in cnn.FASHION_TRAINING.items() if k != "model"}
    settings["epochs"] = epochs
    clock = EpochClock()
    _, record = cnn.train_fashion_cnn(**settings, verbose=0, callbacks=[clock], precision=precision)
    return {"train_seconds": record["train_seconds"], "fastest_epoch": min(clock.seconds),
            "test_accuracy": record["test_accuracy"]}


def speed_rows(label: str, rates: dict[str, list[float]]) -> list[str]:
    """Table rows: median images/s, range, and bfloat16's median over float32's."""
    medians = {p: float(np.median(r)) for p, r in rates.items()}
    return [
        f"| {label} | {p} | {medians[p]:.0f} | {min(r):.0f}-{max(r):.0f} | {medians[p] / medians['float32']:.2f} |"
        for p, r in rates.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=run, nargs="+", default=list(RUNS))
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="speed rounds each precision trains, taking turns")
    parser.add_argument("--speed-only", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.speed_only:
        print(json.dumps(speed_in_this_process(args.rounds)))
        return
    flags = cpu_flags()
    has_bf16 = [f for f in BF16_INSTRUCTIONS if f in flags]
    before, bf16_matmul = matmul_gflops(), matmul_gflops(dtype="bfloat16")
    speeds = [("all of this CPU's", speed(args.rounds, None))]
    if has_bf16 and "avx512f" in flags:  # AVX512_CORE: AVX-512 without bfloat16 (and without AMX)
        speeds.append(("AVX-512 without bfloat16 (`ONEDNN_MAX_CPU_ISA=AVX512_CORE`)", speed(args.rounds, "AVX512_CORE")))
    rows = []
    for precision, epochs in args.runs:
        result = train(precision, epochs)
        rows.append(f"| {precision} | {epochs} | {result['train_seconds']:.1f} | {result['fastest_epoch']:.1f} "
                    f"| {result['test_accuracy']:.4f} |")
        print(rows[-1], flush=True)
    after = matmul_gflops()
    command = "`.venv/bin/python benchmarks/cnn_precision.py"
    if (args.runs, args.rounds) != (list(RUNS), ROUNDS):
        command += f" --runs {' '.join(f'{p}:{e}' for p, e in args.runs)} --rounds {args.rounds}"
    lines = [
        "# Mixed precision on a CPU: chapter 4's CNN in float32 and bfloat16",
        "",
        f"- {machine_line(before)}; {after:.0f} GFLOP/s when measured again after the runs",
        f"- bfloat16 instructions: {', '.join(has_bf16) or 'none'}; bfloat16 matmul {bf16_matmul:.0f} GFLOP/s",
        f"- command: {command}`",
        "",
        f"Speed: one epoch of {SPEED_IMAGES:,} images per round, the two precisions taking turns for "
        f"{args.rounds} rounds; images/s of the median round, range from the slowest round to the fastest.",
        "",
        "| oneDNN may use | precision | images/s | range | against float32 |",
        "|---|---|---:|---:|---:|",
        *[row for label, rates in speeds for row in speed_rows(label, rates)],
        "",
        f"Quality: chapter 4's recipe (seed {cnn.FASHION_TRAINING['seed']}, batch "
        f"{cnn.FASHION_TRAINING['batch_size']}, one-cycle schedule over the run), one run each, one after another.",
        "",
        "| precision | epochs | training seconds | fastest epoch (s) | test accuracy |",
        "|---|---:|---:|---:|---:|",
        *rows,
    ]
    (OUT / "cnn_precision.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
