"""How much budget an MLP needs on a large table, beside boosting: the evidence behind
advisor/thresholds.MLP_SECONDS_PER_1K_SAMPLES (the rule lots-of-data-short-budget-boosting).

    python bench/mlp_budget.py [--budgets 30s 60s 120s] [--data bench/data]

Runs `advisor recommend large_nonlinear.csv --family F --budget B --seed 0 --json` in a fresh
process for the MLP at each budget and boosting at the smallest, and writes
bench/results/mlp_budget.md (test R^2, validation R^2, whole-run wall time).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, write_results  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", nargs="+", default=["30s", "60s", "120s"])
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    [(_, path)] = write_corpus(args.data, ["large_nonlinear"])
    runs = [("mlp", budget) for budget in args.budgets] + [("boosting", args.budgets[0])]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for family, budget in runs:
            result, wall = run_advisor("recommend", str(path), "--family", family, "--budget", budget, "--seed", "0",
                                       "--out", str(Path(scratch) / f"{family}-{budget}"))
            best = result["best"]
            rows.append(f"| {family} | {budget} | {best['test_score']:.4f} | {best['validation_score']:.4f} | "
                        f"{result['baseline']['test_score']:.4f} | {wall:.0f} |")
            print(rows[-1], flush=True)
    import ray

    write_results(ROOT / "bench" / "results" / "mlp_budget.md", [
        "# The MLP's budget on a large table, beside boosting", "",
        machine_line(ray=ray.__version__),
        f"Command: `python bench/mlp_budget.py --budgets {' '.join(args.budgets)}` (large_nonlinear, 120,000 rows, "
        "9 columns, regression, seed 0; `--budget` is the whole run's).", "",
        "| family | --budget | test R^2 | validation R^2 | default's test R^2 | wall s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *rows,
    ])


if __name__ == "__main__":
    main()
