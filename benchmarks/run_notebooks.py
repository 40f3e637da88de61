"""Execute every chapter in a fresh kernel and report how long each took.

Usage (from the repository root, after ``bash scripts/setup.sh``)::

    .venv/bin/python benchmarks/run_notebooks.py [--keep-models] [--executed DIR] [NOTEBOOK ...]

By default the model store is an empty temporary folder, so every model is
trained as a reader running the book for the first time would train it.  The
script also measures this machine's dense float32 matrix-multiply rate, in
the same run, because timings differ several-fold between machines: compare
seconds only together with that rate.  It writes ``benchmarks/results.md``
and ``benchmarks/results.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

from machine import cpu_name, matmul_gflops

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent


class PeakMemory:
    """Poll the resident memory of a process tree and keep the peak."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss + sum(
                    child.memory_info().rss for child in self.process.children(recursive=True)
                )
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            self._stop.wait(0.2)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_notebook(path: Path, executed: Path | None = None) -> dict[str, object]:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    with client.setup_kernel():
        kernel_pid = client.km.provisioner.pid if client.km.provisioner else None
        monitor = PeakMemory(kernel_pid) if kernel_pid else None
        if monitor:
            monitor.__enter__()
        try:
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index)
        finally:
            if monitor:
                monitor.__exit__()
    seconds = time.perf_counter() - start
    if executed is not None:
        executed.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, executed / path.name)
    return {
        "notebook": str(path.relative_to(ROOT)),
        "seconds": round(seconds, 1),
        "peak_memory_mb": round(monitor.peak / 2**20) if monitor else None,
    }


def _number(value: object, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def trained_model_table(records: list[dict]) -> list[str]:
    """Markdown rows for the model store's records: one per trained model or computed result.

    "training seconds" is what the trainer timed itself (``fit`` alone, where
    it says); "wall seconds" is the whole training function, data included,
    as the store timed it. A name stored with several configurations is
    followed by the settings that tell them apart.
    """
    if not records:
        return []
    lines = [
        "| trained model | training seconds | wall seconds | test accuracy | epochs |",
        "|---|---:|---:|---:|---:|",
    ]
    for record in records:
        name = record["name"]
        siblings = [r.get("config", {}) for r in records if r["name"] == name]
        if len(siblings) > 1:
            config = record.get("config", {})
            differing = [k for k in config if any(s.get(k) != config[k] for s in siblings)]
            name += " (" + ", ".join(f"{k} {config[k]}" for k in differing) + ")"
        lines.append(
            f"| {name} | {_number(record.get('train_seconds'), 1)} | {_number(record.get('wall_seconds'), 1)} | "
            f"{_number(record.get('test_accuracy'), 4)} | {record.get('epochs', '-')} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument(
        "--keep-models", action="store_true",
        help="use the normal model store: reuse the models in it, and keep the ones trained now",
    )
    parser.add_argument(
        "--executed", type=Path, metavar="DIR",
        help="also save each executed notebook, outputs included, into DIR (to read what it printed)",
    )
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    notebooks = [Path(n).resolve() for n in notebooks]
    if args.executed and args.executed.resolve() in {n.parent for n in notebooks}:
        parser.error("--executed must be another folder: it would overwrite the notebooks it runs")

    with tempfile.TemporaryDirectory() as models:
        if not args.keep_models:
            os.environ["VISIONBOOK_MODELS"] = models
        os.environ.pop("MPLBACKEND", None)  # notebooks draw inline, as for a reader
        store = Path(os.environ.get("VISIONBOOK_MODELS", ROOT / "models"))
        started_empty = not any(store.glob("*.keras")) and not any(store.glob("*.json"))
        gflops_before = matmul_gflops()
        print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs, fp32 matmul {gflops_before:.0f} GFLOP/s", flush=True)
        rows = []
        for path in notebooks:
            row = run_notebook(path, args.executed)
            rows.append(row)
            print(f"{row['notebook']}: {row['seconds']} s, peak {row['peak_memory_mb']} MB", flush=True)
        gflops_after = matmul_gflops()
        records = [json.loads(p.read_text()) for p in sorted(store.glob("*.json"))]

    total = sum(float(r["seconds"]) for r in rows)
    lines = [
        "# Benchmark results",
        "",
        f"- machine: {cpu_name()}, {os.cpu_count()} CPUs; fp32 matmul (TensorFlow, 2048x2048): "
        f"{gflops_before:.0f} GFLOP/s before, {gflops_after:.0f} GFLOP/s after the notebooks",
        f"- date: {time.strftime('%Y-%m-%d %H:%M')}; model store: "
        f"{'empty (every model trained)' if started_empty else 'existing (models reused)'}",
        f"- command: `.venv/bin/python benchmarks/run_notebooks.py{' --keep-models' if args.keep_models else ''}`",
        "",
        "| notebook | wall time (s) | peak memory (MB) |",
        "|---|---:|---:|",
        *[f"| {r['notebook']} | {r['seconds']} | {r['peak_memory_mb']} |" for r in rows],
        f"| **all** | **{total:.1f}** | |",
        "",
    ]
    lines += trained_model_table(records)
    (OUT / "results.md").write_text("\n".join(lines) + "\n")
    with open(OUT / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["notebook", "seconds", "peak_memory_mb"])
        writer.writeheader()
        writer.writerows(rows)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
