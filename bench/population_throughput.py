"""Population trials: configurations per minute when one Ray trial trains many MLP configurations
at once (tuners/families/population.py) against one configuration per trial.

    python bench/population_throughput.py [--rows 5000] [--populations 1 8 16] [--configs 16] [--cli-budget 30s]
    python bench/population_throughput.py --gpu --canonical .whl/canonical_probe.py --rows 200000 \\
        --populations 64 --configs 128          # on the GPU machine; writes gpu_throughput.json too

The model and data are canonical_probe.py's (../shared/gpu/): 64 Gaussian features, 10 classes
from tanh(XW) plus noise, 2 x 256 ReLU, SGD with momentum 0.9, batch 256, 5 epochs, the learning
rate log-uniform in [1e-3, 1e-1] (seed 003). Every configuration trains on `--rows` rows per
epoch (TorchNet's inner validation rows come on top) and is scored on a validation split, through
the advisor's own Ray backend (run_stage, population space, member records). With --canonical,
the probe's variant A (the usual Ray Tune + PyTorch trial, 1 GPU each) runs first in the same
process, on the same machine.

Then, end to end (not with --gpu): `advisor recommend examples/wine.csv --family mlp` with the same
budget and population 1 and the default, counting the configurations each tried and how many
finished every fold: the small-model case, where a trial's overhead is most of its cost.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.features import FeatureSpec  # noqa: E402
from advisor.types import Family, Task  # noqa: E402
from bench.common import ROOT, machine_line, run_advisor as run_cli, write_results  # noqa: E402
from tuners import population_space, ray_backend  # noqa: E402
from tuners.data import Problem  # noqa: E402
from tuners.families import FAMILIES  # noqa: E402
from tuners.families.base import INNER_VALIDATION  # noqa: E402
from tuners.space import Choice, LogUniform, OneMinusLogUniform, Param, Space, Uniform  # noqa: E402
from tuners.evaluation import evaluate_with  # noqa: E402

FEATURES, CLASSES, EPOCHS = 64, 10, 5
MODEL = dict(layers=2, units=256, activation="relu", optimizer="sgd", lr_decay="none", batch_norm=False, batch_size=256)
FIXED = dict(momentum=0.9, dropout=0.0, l1=1e-8, l2=1e-8)


def canonical_space() -> Space:
    """The probe's one searched hyperparameter; everything else fixed at the probe's values."""
    params = {k: Param(Choice((v,))) for k, v in MODEL.items()}
    params.update(learning_rate=Param(LogUniform(1e-3, 1e-1)), momentum=Param(OneMinusLogUniform(0.9, 0.9)),
                  dropout=Param(Uniform(0.0, 0.0)), l1=Param(LogUniform(1e-8, 1e-8)), l2=Param(LogUniform(1e-8, 1e-8)))
    return Space(params, start={**MODEL, **FIXED, "learning_rate": 0.01})


def make_problem(rows: int, seed: int = 0) -> Problem:
    """canonical_probe.make_data's recipe; fold-train rows chosen so each fit trains on `rows`."""
    import torch

    fit_rows = math.ceil(rows / (1 - INNER_VALIDATION))
    valid_rows = max(1000, rows // 10)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(fit_rows + valid_rows, FEATURES, generator=g)
    w = torch.randn(FEATURES, CLASSES, generator=g)
    y = (torch.tanh(x @ w) + 0.1 * torch.randn(len(x), CLASSES, generator=g)).argmax(1).numpy()
    frame = pd.DataFrame(x.numpy(), columns=[f"x{i}" for i in range(FEATURES)])
    empty = np.arange(0)
    return Problem(task=Task.MULTICLASS, spec=FeatureSpec(numeric=tuple(frame.columns)),
                   classes=tuple(str(c) for c in range(CLASSES)), metric="accuracy", x_train=frame, y_train=y,
                   x_test=frame.iloc[:0], y_test=y[:0], splits=((np.arange(fit_rows), np.arange(fit_rows, len(x))),),
                   seed=seed, test_rows=empty)


def _fixed_epochs_build(config, problem):
    model = FAMILIES[Family.MLP].build(config, problem)
    return model.set_params(model__max_epochs=EPOCHS, model__patience=EPOCHS)


def population_trial(config: dict, report, problem: Problem, deadline: float | None = None) -> None:
    """The advisor's population evaluation, with the probe's fixed epoch count."""
    definition = dataclasses.replace(FAMILIES[Family.MLP], build=_fixed_epochs_build)
    evaluate_with(definition, config, report, problem, deadline)


def run_advisor(problem: Problem, population: int, configs: int, gpu: bool, storage: Path) -> dict:
    # A population of one is the usual one-configuration trial (TorchNet fits every MLP that way).
    space = population_space.expand(canonical_space(), FAMILIES[Family.MLP].population_keys, population, seed=0)
    request = ray_backend.StageRequest(name=f"population-{population}", space=space, points=(),
                                       num_samples=population_space.trials_for(configs, population), budget_s=3600,
                                       search="random", iterative=False, folds=1, seed=0)
    trainable = ray_backend.evaluate_in_trial(population_trial, threads=1 if gpu else 2)
    started = time.perf_counter()
    records = ray_backend.run_stage(request, trainable, {"problem": problem}, storage,
                                    {"cpu": 1, "gpu": 1 if gpu else 0}, slots=1)
    wall = time.perf_counter() - started
    done = [r for r in records if r.status == "completed"]
    if not done:
        raise SystemExit(f"population {population}: no configuration trained: {records[0].error if records else 'no trial'}")
    best = max(done, key=lambda r: r.score)
    return {"population": population, "configs": len(done), "failed": len(records) - len(done), "wall_s": round(wall, 1),
            "configs_per_min": round(len(done) / wall * 60, 1),
            "best_validation_accuracy": round(best.score, 4),
            "best_final_train_loss": round(min(r.curve[-1][1] for r in done), 4)}


def run_canonical(path: Path, rows: int, trials: int) -> dict:
    os.environ.update(N=str(rows), EPOCHS=str(EPOCHS), TRIALS=str(trials))  # the probe reads these at import
    spec = importlib.util.spec_from_file_location("canonical_probe", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    return probe.run_ray(probe.trial_dataloader, 1.0, "A DataLoader, gpu=1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000, help="rows each configuration trains on per epoch")
    parser.add_argument("--populations", type=int, nargs="+", default=[1, 8, 16])
    parser.add_argument("--configs", type=int, default=16, help="configurations per measurement")
    parser.add_argument("--cli-budget", default="30s", help="budget of the end-to-end wine runs (CPU only)")
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--canonical", type=Path, help="canonical_probe.py: run its variant A first (GPU only)")
    parser.add_argument("--canonical-trials", type=int, default=4)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    command = "python bench/population_throughput.py " + " ".join(sys.argv[1:])
    canonical = run_canonical(args.canonical, args.rows, args.canonical_trials) if args.canonical else None
    problem = make_problem(args.rows)
    rows = []
    with ray_backend.ray_session(None), tempfile.TemporaryDirectory() as storage:
        for population in args.populations:
            rows.append(run_advisor(problem, population, args.configs, args.gpu, Path(storage)))
            print(json.dumps(rows[-1]), flush=True)
    end_to_end = [] if args.gpu else [cli_run(population, args.cli_budget) for population in (1, None)]
    import ray
    import torch

    device = torch.cuda.get_device_name(0) if args.gpu else f"CPU, {os.cpu_count()} cores"
    args.results.mkdir(parents=True, exist_ok=True)
    name = "population_gpu" if args.gpu else "population_cpu"
    (args.results / f"{name}.json").write_text(json.dumps({"device": device, "command": command, "canonical": canonical,
                                                            "advisor": rows}, indent=1), encoding="utf-8")
    if canonical:
        best = max(rows, key=lambda r: r["configs_per_min"])
        (args.results / "gpu_throughput.json").write_text(json.dumps({
            "device": device, "canonical_configs_per_min": canonical["trials_per_min"],
            "advisor_configs_per_min": best["configs_per_min"],
            "ratio": round(best["configs_per_min"] / canonical["trials_per_min"], 1),
            "advisor_population": best["population"], "advisor_best_final_train_loss": best["best_final_train_loss"],
            "command": command, "date": time.strftime("%Y-%m-%d"),
        }, indent=1), encoding="utf-8")
    baseline = next((r for r in rows if r["population"] == 1), None)
    lines = [f"# Population trials: configurations per minute ({device})", "",
             machine_line(ray=ray.__version__, torch=torch.__version__), f"Command: `{command}`", "",
             f"Model and data as ../shared/gpu/canonical_probe.py: 2 x 256 ReLU MLP, SGD momentum 0.9, batch 256, "
             f"{EPOCHS} epochs of {args.rows:,} rows x {FEATURES} features, 10 classes; the learning rate sampled "
             f"log-uniform. {args.configs} configurations per row, through the advisor's Ray backend "
             "(population 1 = one configuration per trial, the usual pattern).", "",
             "| population | configurations | wall s | configs / min | vs population 1 | best val. accuracy | best final train loss |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        ratio = f"{r['configs_per_min'] / baseline['configs_per_min']:.1f}x" if baseline else "n/a"
        lines.append(f"| {r['population']} | {r['configs']} | {r['wall_s']} | {r['configs_per_min']} | {ratio} | "
                     f"{r['best_validation_accuracy']} | {r['best_final_train_loss']} |")
    if canonical:
        lines += ["", f"canonical_probe.py variant A on the same machine: {canonical['trials_per_min']} configs / min "
                      f"({canonical['trials']} trials, {canonical['wall_s']} s)."]
    if end_to_end:
        lines += ["", f"End to end, `advisor recommend examples/wine.csv --family mlp --budget {args.cli_budget}` "
                      "(178 rows, 5-fold CV, a one-layer MLP of a few units: overhead dominates):", "",
                  "| --population | configurations tried | finished every fold | best validation accuracy | test accuracy |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {r['population']} | {r['tried']} | {r['completed']} | {r['validation']:.4f} | {r['test']:.4f} |"
                  for r in end_to_end]
    write_results(args.results / f"{name}.md", lines)


def cli_run(population: int | None, budget: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        extra = [] if population is None else ["--population", str(population)]
        result, _ = run_cli("recommend", str(ROOT / "examples" / "wine.csv"), "--family", "mlp", "--budget", budget,
                            "--out", str(Path(scratch) / "run"), *extra)
    found = {"population": population or f"default ({result['tuning']['resources']['population']})",
             "tried": len(result["trials"]), "completed": sum(t["status"] == "completed" for t in result["trials"]),
             "validation": result["best"]["validation_score"], "test": result["best"]["test_score"]}
    print(json.dumps(found), flush=True)
    return found


if __name__ == "__main__":
    main()
