"""The conv1d family beside the RNN (with its duel) and the flat families on sequences, at the same
budget, on the same test series: GunPoint, ItalyPowerDemand, JapaneseVowels (UCR, shipped in
examples/) and the synthetic long-format chirps.

    python bench/conv1d_sequences.py [--budget 30s]

conv1d and rnn train on the long format; the flat families (linear, boosting, mlp) on the same
series in wide format (one row per series, steps as columns; JapaneseVowels has 12 channels, so
it has no wide form). The test split is drawn over series with seed 0, so both layouts hold out the
same series. Written to bench/results/conv1d_sequences.md and .json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from examples.make_examples import sequences_long_csv  # noqa: E402

DEEP = ("conv1d", "rnn")
FLAT = ("linear", "boosting", "mlp")


def wide_form(long_path: Path, out: Path) -> Path | None:
    """The series one row each (steps as columns), or None for several channels."""
    long = pd.read_csv(long_path)
    values = [c for c in long.columns if c not in ("series_id", "step", "label")]
    if len(values) != 1:
        return None
    wide = long.pivot(index="series_id", columns="step", values=values[0])
    wide.columns = [f"t{c}" for c in wide.columns]
    wide["label"] = long.groupby("series_id")["label"].first()
    wide.to_csv(out, index=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "conv1d_sequences.md")
    args = parser.parse_args()
    found: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as scratch:
        inputs = {name: ROOT / "examples" / f"{name}.csv.gz" for name in ("gunpoint", "italypowerdemand", "japanesevowels")}
        inputs["synthetic chirps"] = sequences_long_csv(Path(scratch))
        for label, path in inputs.items():
            wide = wide_form(path, Path(scratch) / f"{label.replace(' ', '-')}-wide.csv")
            found[label] = {}
            for family in DEEP + (FLAT if wide else ()):
                data = path if family in DEEP else wide
                r, wall = run_advisor("recommend", str(data), "--family", family, "--budget", args.budget,
                                      "--out", f"{scratch}/{label.replace(' ', '-')}-{family}")
                found[label][family] = {"test_accuracy": r["best"]["test_score"], "metric": r["best"]["metric"],
                                        "trials": len(r["trials"]), "wall_s": round(wall, 1),
                                        "rules_pick": r["ranking"][0]["family"] if r["ranking"] else None,
                                        "duel": (r.get("duel") or {}).get("winner")}
                print(label, family, found[label][family], flush=True)
    _write(args, found)


def _write(args, found: dict[str, dict]) -> None:
    import torch

    families = DEEP + FLAT
    rows = []
    for label, runs in found.items():
        cells = [f"{runs[f]['test_accuracy']:.4f} ({runs[f]['trials']})" if f in runs else "-" for f in families]
        best = max(runs, key=lambda f: runs[f]["test_accuracy"])
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {best} | {runs['rnn']['duel']} |")
    wins = sum(1 for runs in found.values() if runs["conv1d"]["test_accuracy"] >= runs["rnn"]["test_accuracy"])
    lines = [
        "# conv1d beside the RNN and the flat families on sequences, CPU",
        "",
        machine_line(torch=torch.__version__) + " No GPU.",
        f"Command: `python bench/conv1d_sequences.py --budget {args.budget}`",
        "",
        "Each cell is `advisor recommend DATA --family F --budget B --json` in a fresh process, seed 0: test accuracy "
        "on the same 20% of the series (trials in brackets). conv1d and rnn read the long format; linear, boosting and "
        "mlp the wide one (none for sets with several channels: JapaneseVowels, the synthetic chirps). The rnn runs its LSTM/GRU duel first.",
        "",
        "| data | " + " | ".join(families) + " | best | duel winner |",
        "| --- | " + " | ".join("---:" for _ in families) + " | --- | --- |",
        *rows,
        "",
        f"conv1d at least the RNN's test accuracy on {wins} of {len(found)} sets. The rules (rules/catalog.py, "
        "time-conv1d) rank conv1d above the RNN on series from this table; the RNN stays the runner-up.",
    ]
    write_results(args.results, lines)
    args.results.with_suffix(".json").write_text(json.dumps({"budget": args.budget, "runs": found}, indent=2))


if __name__ == "__main__":
    main()
