"""`--budget` against the whole run's wall time, for every family and both tuners.

    python bench/budget_wall.py [--budget 30s] [--only FAMILY ...]

Each run is `advisor recommend DATA --family F --budget B --json` in a fresh process, timed from
start to exit: loading, profiling, the search, the refits, the default baseline, the export and
the report, Python's and Ray's start-up included. The goal (issue 18): every run within
budget x 1.1 + 30 s. Written to bench/results/budget_wall.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.cli import parse_budget  # noqa: E402
from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from examples import make_examples  # noqa: E402

# family, tuner, example file (from examples.make_examples.write_all)
RUNS = (
    ("linear", "ray", "wine.csv"), ("naive_bayes", "ray", "short_texts.csv"), ("boosting", "ray", "interactions.csv"),
    ("mlp", "ray", "digits.csv"), ("cnn", "ray", "digits_images"), ("conv1d", "ray", "sequences_long.csv"),
    ("rnn", "ray", "sequences_long.csv"), ("kmeans", "ray", "iris_unlabelled.csv"), ("mlp", "keras", "wine.csv"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30s")
    parser.add_argument("--only", nargs="*", help="families to run (default: all)")
    args = parser.parse_args()
    budget = parse_budget(args.budget)
    limit = budget * 1.1 + 30
    lines = ["# --budget against the whole run's wall time", "",
             machine_line(ray=version("ray"), torch=version("torch"), xgboost=version("xgboost"),
                          keras=version("keras")),
             f"Command: `python bench/budget_wall.py --budget {args.budget}`. Goal: every run within "
             f"budget x 1.1 + 30 s = {limit:g} s.", "",
             "| family | tuner | data | budget s | search s | whole run s | within goal | trials |",
             "| --- | --- | --- | ---: | ---: | ---: | --- | ---: |"]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        make_examples.write_all(folder / "data")
        for family, tuner, data in RUNS:
            if args.only and family not in args.only:
                continue
            result, wall = run_advisor("recommend", str(folder / "data" / data), "--family", family, "--tuner", tuner,
                                       "--budget", args.budget, "--out", str(folder / f"{family}-{tuner}"))
            print(f"{family} {tuner}: {wall:.1f} s for {budget:g} s", flush=True)
            lines.append(f"| {family} | {tuner} | {data} | {budget:g} | {result['tuning']['budget_s']:.1f} | "
                         f"{wall:.1f} | {'yes' if wall <= limit else '**no**'} | {len(result['trials'])} |")
    write_results(ROOT / "bench" / "results" / "budget_wall.md", lines)


if __name__ == "__main__":
    main()
