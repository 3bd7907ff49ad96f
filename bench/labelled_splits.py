"""What the blend benchmarks (bench/blend.py, partner_start.py, ensemble_size.py) share: the seeded
splits of the labelled tabular sets of bench/corpus.py and bench/tables.py that a blend is scored on,
the loop that collects and prints their rows, a results file's header, and the options."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import ROOT, machine_line
from bench.feature_bases import tabular_sets
from tuners.blending import METRICS
from tuners.data import prepare


def labelled_splits(seeds: list[int], folder: Path, max_rows: int, names=None, skip=()):
    """(set, seed, Problem) of each labelled tabular set's seeded splits a blend is scored on (its
    metric in METRICS): only `names` where given, none of `skip`, none over `max_rows` rows."""
    for name, dataset, found in tabular_sets(folder):
        if (names and name not in names) or name in skip:
            continue
        if len(dataset.frame) > max_rows:  # a 30 s run's check gives up on them (randhie, large_nonlinear)
            print(f"{name}: {len(dataset.frame):,} rows, over --max-rows {max_rows:,}: left out", flush=True)
            continue
        for seed in seeds:
            problem = prepare(dataset.frame, found, seed=seed)
            if problem.metric in METRICS:
                yield name, seed, problem


def collected(splits, measure_one) -> list[dict]:
    """`measure_one(problem)`'s rows (a dict, a list of them, or None) with their set, seed and
    metric, each printed as it comes."""
    rows = []
    for name, seed, problem in splits:
        found = measure_one(problem)
        for row in found if isinstance(found, list) else [found] if found is not None else []:
            rows.append({"set": name, "seed": seed, "metric": problem.metric, **row})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def split_arguments(doc: str) -> argparse.ArgumentParser:
    """The options of a bench script over labelled_splits: --seeds, --results, --max-rows."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--max-rows", type=int, default=10_000, help="leave out larger sets (default 10,000)")
    return parser


def header(title: str, command: str, *intro: str) -> list[str]:
    """A results file's title, machine line, command and introduction."""
    import sklearn

    return [f"# {title}", "", machine_line(**{"scikit-learn": sklearn.__version__}), f"Command: {command}", "", *intro]
