"""Tuning wall time against rows, for one family with a fixed number of trials.

    python bench/tuning_scaling.py [--rows 1000 10000 100000] [--family boosting] [--trials 6]

The same 50-column table as bench/profile_scaling.py, at each size, tuned by
`advisor recommend FILE --family F --trials N --budget 1h --json` in a fresh process: the budget is
far away, so every size runs the same N trials and the time shows how the cost of a trial grows
(k-fold CV up to 20,000 training rows, one validation split above). Written to
bench/results/tuning_scaling.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
from bench.profile_scaling import make_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--family", default="boosting")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--folder", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "tuning_scaling.md")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    rows_out, first = [], None
    for rows in args.rows:
        path = args.folder / f"scaling_{rows}.csv"
        if not path.exists():
            make_csv(path, rows)
        with tempfile.TemporaryDirectory() as runs:
            result, wall = run_advisor("recommend", str(path), "--family", args.family, "--trials", str(args.trials),
                                       "--budget", "1h", "--out", f"{runs}/run")
        tune_s = result["timings"]["tune_s"]
        first = first or (rows, tune_s)
        rows_out.append(f"| {rows:,} | {result['tuning']['validation']} | {trial_counts(result)} | {tune_s:.1f} | "
                        f"{tune_s / first[1]:.2f} | {rows / first[0]:,.0f} | {wall:.1f} | {result['best']['test_score']:.4f} |")
        print(rows_out[-1], flush=True)
    import ray, xgboost  # noqa: E401 - versions for the record

    write_results(args.results, [
        "# Tuning wall time against rows",
        "",
        machine_line(ray=ray.__version__, xgboost=xgboost.__version__),
        f"Command: `python bench/tuning_scaling.py --rows {' '.join(map(str, args.rows))} --family {args.family} "
        f"--trials {args.trials}`",
        "",
        f"{args.family}, {args.trials} trials at every size (the seeds' start, then random search), 50 columns. "
        "`tune s` is the tuning stage (trials, the final refit on all training rows, export); `x time` and `x rows` "
        "are against the smallest size. Above 20,000 training rows the advisor switches from 5-fold CV to one "
        "validation split, which is why time grows slower than rows there.",
        "",
        "| rows | validation | trials | tune s | x time | x rows | process wall s | test score |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows_out,
    ])


if __name__ == "__main__":
    main()
