"""Reproducible: the book's seeded training gives the same weights in any new process.

``repro_child.py`` runs the book's own training functions for the CNN, the
GAN and the VAE (seed, architecture, optimizer and schedule unchanged; the
data cut to 512 images, so four steps each).  Two such processes run at the
same time, competing for the CPU, and must end with bit-identical weights
and loss histories.  On one machine TensorFlow's CPU kernels are
deterministic for a fixed thread count, and this test keeps it so; across
different CPUs (other instruction sets, other thread counts) the last bits
may differ, which is why the book's floors leave a margin.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = Path(__file__).resolve().with_name("repro_child.py")


def test_seeded_training_is_identical_in_two_processes(tmp_path):
    outputs = [tmp_path / "first.npz", tmp_path / "second.npz"]
    runs = [
        subprocess.Popen([sys.executable, str(CHILD), str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for out in outputs
    ]
    for run in runs:
        log, _ = run.communicate(timeout=900)
        assert run.returncode == 0, log[-4000:]
    first, second = (np.load(out) for out in outputs)
    assert first.files == second.files
    for model in ("cnn", "gan", "vae"):
        weights = [k for k in first.files if k.startswith(f"{model}/weight")]
        history = [k for k in first.files if k.startswith(f"{model}/history")]
        assert weights and history, f"{model}: nothing was trained"
        assert all(np.all(np.isfinite(first[k])) for k in history), f"{model}: a loss is not finite"
        differing = [k for k in weights + history if not np.array_equal(first[k], second[k])]
        assert not differing, (
            f"{model}: the same seeded training gave different results in two processes: "
            + ", ".join(f"{k} (max diff {np.max(np.abs(first[k] - second[k])):.3g})" for k in differing[:5])
        )
    assert not np.array_equal(first["cnn/initial000"], first["cnn/weight000"]), "the CNN did not train"
