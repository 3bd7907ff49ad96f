"""The CNN family on scikit-learn's digits, as a pixel CSV and as a folder of PNGs, on this machine's CPU.

    python bench/cnn_digits.py [--budget 120s]

Written to bench/results/cnn_digits.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
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
            r, wall = run_advisor("recommend", str(path), "--family", "cnn", "--budget", args.budget,
                                  "--out", f"{scratch}/{label.replace(' ', '-')}-run")
            rows.append(
                f"| {label} | {r['profile']['modality']} {'x'.join(map(str, r['profile']['image_shape']))} | "
                f"{r['tuning']['test_metrics']['accuracy']:.4f} | {r['baseline']['test_metrics']['accuracy']:.4f} | "
                f"{r['best']['validation_score']:.4f} | {trial_counts(r)} | {wall:.0f} |"
            )
            print(rows[-1], flush=True)
    import torch

    lines = [
        "# CNN on scikit-learn's digits, CPU",
        "",
        machine_line(torch=torch.__version__) + " No GPU.",
        f"Command: `python bench/cnn_digits.py --budget {args.budget}`",
        "",
        "Each row is `advisor recommend DATA --family cnn --budget B --json` in a fresh process, seed 0; 1,797 images, "
        "20% held out for the test. `start` is the CNN's starting configuration (2 blocks of 32/64 filters, Adam 1e-3) "
        "refitted on the same rows. Trials: all (completed / stopped early by ASHA or the budget / failed).",
        "",
        "| input | profile | test accuracy (tuned) | test accuracy (start) | validation | trials | wall s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    write_results(args.results, lines)


if __name__ == "__main__":
    main()
