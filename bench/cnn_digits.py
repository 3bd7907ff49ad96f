"""The CNN family on scikit-learn's digits, as a pixel CSV and as a folder of PNGs, on this machine's CPU.

    python bench/cnn_digits.py [--budget 120s]

Written to bench/results/cnn_digits.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.make_examples import digits_image_folder, sklearn_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="120s")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "cnn_digits.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        inputs = {"pixel CSV": sklearn_csv("digits", Path(scratch)), "PNG folder": digits_image_folder(Path(scratch))}
        for label, path in inputs.items():
            command = [sys.executable, "-m", "advisor", "recommend", str(path), "--family", "cnn", "--budget",
                       args.budget, "--json", "--out", f"{scratch}/{label.replace(' ', '-')}-run"]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{label} failed:\n{done.stderr}")
            r = json.loads(done.stdout)
            statuses = {s: sum(1 for t in r["trials"] if t["status"] == s) for s in ("completed", "stopped", "failed")}
            rows.append(
                f"| {label} | {r['profile']['modality']} {'x'.join(map(str, r['profile']['image_shape']))} | "
                f"{r['tuning']['test_metrics']['accuracy']:.4f} | {r['baseline']['test_metrics']['accuracy']:.4f} | "
                f"{r['best']['validation_score']:.4f} | {len(r['trials'])} ({statuses['completed']}/{statuses['stopped']}/"
                f"{statuses['failed']}) | {wall:.0f} |"
            )
            print(rows[-1], flush=True)
    import torch

    lines = [
        "# CNN on scikit-learn's digits, CPU",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, no GPU, Python {platform.python_version()}, "
        f"torch {torch.__version__}. Date: {time.strftime('%Y-%m-%d')}. Command: `python bench/cnn_digits.py --budget {args.budget}`",
        "",
        "Each row is `advisor recommend DATA --family cnn --budget B --json` in a fresh process, seed 0; 1,797 images, "
        "20% held out for the test. `start` is the CNN's starting configuration (2 blocks of 32/64 filters, Adam 1e-3) "
        "refitted on the same rows. Trials: all (completed / stopped early by ASHA or the budget / failed).",
        "",
        "| input | profile | test accuracy (tuned) | test accuracy (start) | validation | trials | wall s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    args.results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
