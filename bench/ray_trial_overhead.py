"""Ray Tune's cost per trial on this machine, for trials that do almost nothing: with a new actor
per trial (Ray's default) against reused actors (what the advisor sets).

    python bench/ray_trial_overhead.py [--trials 20]

Written to bench/results/ray_trial_overhead.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def trivial(config):
    from ray import tune

    tune.report({"score": config["x"]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "ray_trial_overhead.md")
    args = parser.parse_args()
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    import ray
    from ray import tune

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    init_s = time.perf_counter() - started
    rows = []
    with tempfile.TemporaryDirectory() as storage:
        for reuse in (False, True):
            started = time.perf_counter()
            tune.Tuner(
                trivial,
                param_space={"x": tune.uniform(0, 1)},
                tune_config=tune.TuneConfig(num_samples=args.trials, metric="score", mode="max", reuse_actors=reuse),
                run_config=tune.RunConfig(storage_path=storage, name=f"reuse-{reuse}", verbose=0),
            ).fit()
            rows.append((reuse, time.perf_counter() - started))
    ray.shutdown()
    fresh, reused = rows[0][1], rows[1][1]
    lines = [
        "# Ray Tune's cost per trial",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, ray {ray.__version__}. "
        f"Date: {time.strftime('%Y-%m-%d')}. Command: `python bench/ray_trial_overhead.py --trials {args.trials}`",
        "",
        f"{args.trials} trials that only report a number; `ray.init` itself took {init_s:.1f} s.",
        "",
        "| actors | wall s | s per trial |",
        "| --- | ---: | ---: |",
        f"| new actor per trial (Ray's default) | {fresh:.1f} | {fresh / args.trials:.2f} |",
        f"| reused actors (`reuse_actors=True`, the advisor's setting) | {reused:.1f} | {reused / args.trials:.2f} |",
        "",
        f"Reusing actors makes a trial {fresh / reused:.0f}x cheaper, so cheap families (linear, naive Bayes, k-means) "
        "evaluate one configuration per trial and still run hundreds of trials in a 60 s budget "
        "(see tuning_quality.md). A failed trial still costs a new actor.",
    ]
    args.results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
