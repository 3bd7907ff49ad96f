"""Tuned against default parameters, same family, same held-out test split.

    python bench/tuning_quality.py [--budget 60s] [--datasets wine breast_cancer diabetes]

Each dataset (scikit-learn's, written to CSV) runs `advisor recommend FILE --budget B --json` in a
fresh process; the result holds the tuned model's test score and the default-parameter baseline's
(the family's library defaults, fitted on the same training rows). Written to
bench/results/tuning_quality.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
from examples.make_examples import sklearn_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--datasets", nargs="+", default=["wine", "breast_cancer", "diabetes",
                                                           "breast_cancer:boosting", "diabetes:boosting", "wine:mlp"],
                        help="NAME or NAME:FAMILY (FAMILY overrides the rules, to measure tuning on other families)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "tuning_quality.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for spec in args.datasets:
            name, _, family = spec.partition(":")
            path = sklearn_csv(name, Path(scratch))
            r, wall = run_advisor("recommend", str(path), "--budget", args.budget,
                                  "--out", f"{scratch}/{name}-{family or 'rules'}-run", *(["--family", family] if family else []))
            best, baseline = r["best"], r["baseline"]
            kept = "yes" if "one-standard-error" in best.get("chosen_because", "") else "no"
            rows.append(
                f"| {name} | {r['family']}{' (--family)' if family else ''} | {best['metric']} | {best['test_score']:.4f} | {baseline['test_score']:.4f} | "
                f"{best['test_score'] - baseline['test_score']:+.4f} | {best['validation_score']:.4f} | {kept} | "
                f"{trial_counts(r)} | "
                f"{r['tuning']['validation']} | {wall:.0f} |"
            )
            print(rows[-1], flush=True)
    import pandas, ray, sklearn  # noqa: E401 - versions for the record

    lines = [
        "# Tuned against default parameters",
        "",
        machine_line(ray=ray.__version__, **{"scikit-learn": sklearn.__version__}, pandas=pandas.__version__),
        f"Command: `python bench/tuning_quality.py --budget {args.budget}`",
        "",
        "Each row is one `advisor recommend FILE --budget B --json` process; seed 0; 20% of rows held out as the "
        "test split before tuning and scored once. `default` is the same family with its library defaults "
        "(logistic/ridge regression with C=1 or alpha=1 and L2; XGBoost defaults; the seeds' MLP start), "
        "fitted on the same training rows. Trials: all (completed / stopped early / failed). "
        "`wall s` is the whole process, start-up included.",
        "",
        "`start kept` says the seeds' starting point was refitted because no trial beat its validation score "
        "by more than one standard error over the folds (the one-standard-error rule); for the linear family "
        "the start is the library default, so tuned and default then coincide.",
        "",
        "| dataset | family | metric | tuned test | default test | tuned - default | validation | start kept | trials | validation scheme | wall s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |",
        *rows,
    ]
    write_results(args.results, lines)


if __name__ == "__main__":
    main()
