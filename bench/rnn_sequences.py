"""The RNN family (with its LSTM-vs-GRU duel) on real UCR sets shipped in examples/ and on the
synthetic chirps, on this machine's CPU, against the majority class and the default configuration.

    python bench/rnn_sequences.py [--budget 300s]

Written to bench/results/rnn_sequences.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
from examples.make_examples import sequences_long_csv  # noqa: E402

REAL = ("gunpoint", "italypowerdemand", "japanesevowels")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="300s")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "rnn_sequences.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        inputs = {name: ROOT / "examples" / f"{name}.csv.gz" for name in REAL}
        inputs["synthetic chirps"] = sequences_long_csv(Path(scratch))
        for label, path in inputs.items():
            r, wall = run_advisor("recommend", str(path), "--budget", args.budget, "--out", f"{scratch}/{label.replace(' ', '-')}")
            p, duel = r["profile"], r["duel"]
            length = p["sequence_length"]
            scores = " / ".join("-" if duel["scores"][c] is None else f"{duel['scores'][c]:.3f}" for c in ("lstm", "gru"))
            rows.append(
                f"| {label} | {r['family']} | {p['samples']} x {length['min']}-{length['max']} x "
                f"{len(p['sequence']['value_columns'])} | {p['classes']} | {max(p['class_balance'].values()):.3f} | "
                f"{r['best']['test_score']:.4f} | {r['baseline']['test_score']:.4f} | {duel['subset_rows']} | {scores} | "
                f"{duel['winner']} | {trial_counts(r)} | {wall:.0f} |"
            )
            print(rows[-1], flush=True)
    import torch

    lines = [
        "# RNN family and the LSTM-vs-GRU duel on sequences, CPU",
        "",
        machine_line(torch=torch.__version__) + " No GPU.",
        f"Command: `python bench/rnn_sequences.py --budget {args.budget}`",
        "",
        "Each row is `advisor recommend DATA --budget B --json` in a fresh process, seed 0, no `--family`: the rules "
        "chose the family. 20% of the series are held out for the test. `majority` is the share of the most common "
        "class (the majority-class baseline's accuracy); `default` is the RNN's starting configuration (one LSTM layer "
        "of 64 units, Adam 1e-3) refitted on the same rows. The duel trains both cells on the same seeded subset "
        "with the same configurations (3-fold CV); scores are each cell's best validation accuracy. "
        "Trials: all (completed / stopped early by ASHA or the budget / failed), duel not counted.",
        "",
        "| data | family | series x steps x channels | classes | majority | test accuracy (tuned) | default | "
        "duel subset | duel LSTM / GRU | winner | trials | wall s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |",
        *rows,
    ]
    write_results(args.results, lines)


if __name__ == "__main__":
    main()
