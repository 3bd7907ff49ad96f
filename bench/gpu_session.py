"""The GPU runs the open issues ask for, ready for a session with a device (H100/H200): each part
fits one `run` command (10 minutes at most) and writes bench/results/gpu_PART.md and .json, copied
to $OUT when it is set.

    source .whl/setup-on-gpu.sh; python bench/gpu_session.py throughput   # issue 9: 60x canonical variant A?
    source .whl/setup-on-gpu.sh; python bench/gpu_session.py deep         # issue 4: CNN and RNN on the GPU
    source .whl/setup-on-gpu.sh; python bench/gpu_session.py keras        # issue 6: --tuner keras, KERAS_BACKEND=torch
    source .whl/setup-on-gpu.sh; python bench/gpu_session.py batch        # issue 7: a batch of five modalities

`--dry-run` runs a part on this machine's CPU with short budgets and no GPU options, writing to a
temporary folder: the plumbing, not the figures. GPU memory is the peak `nvidia-smi` reports while a part runs (all processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
from examples.make_examples import digits_image_folder, short_texts_csv, sklearn_csv, unlabelled_iris_csv  # noqa: E402



class GpuMemory:
    """Peak GPU memory in use (MiB) while the block runs, polled from nvidia-smi."""

    def __init__(self, every_s: float = 0.5):
        self.every_s, self.peak_mib, self._stop = every_s, None, threading.Event()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                used = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                      capture_output=True, text=True, timeout=5).stdout.split()
                if used:
                    self.peak_mib = max(self.peak_mib or 0, max(int(u) for u in used))
            except (OSError, subprocess.SubprocessError, ValueError):
                return  # no nvidia-smi (a dry run on a CPU machine)
            self._stop.wait(self.every_s)

    def __enter__(self):
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _device() -> str:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (dry run)"


def _recommend(path: Path, options: list[str], scratch: Path, env: dict | None = None) -> dict:
    """One `advisor recommend` in a fresh process, with the figures the GPU tables need."""
    with GpuMemory() as memory:
        result, wall = run_advisor("recommend", str(path), *options, "--out", str(scratch / f"run-{time.time_ns()}"), env=env)
    tuning = result.get("tuning", {})
    return {"data": path.name, "options": " ".join(options), "family": result["family"],
            "test_score": result["best"]["test_score"], "default_score": result["baseline"]["test_score"],
            "trials": trial_counts(result), "tuning_wall_s": round(tuning.get("wall_s", 0.0), 1), "wall_s": round(wall, 1),
            "trials_per_min": round(len(result["trials"]) / max(1e-9, tuning.get("wall_s", wall)) * 60, 1),
            "gpu_peak_mib": memory.peak_mib, "population": tuning.get("resources", {}).get("population"),
            "duel": {k: result["duel"][k] for k in ("winner", "scores")} if result.get("duel") else None}


def _table(rows: list[dict], columns: list[str]) -> list[str]:
    return (["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
            + ["| " + " | ".join(f"{r.get(c):.4f}" if isinstance(r.get(c), float) else str(r.get(c)) for c in columns) + " |"
               for r in rows])


def _write(results: Path, part: str, command: str, intro: str, rows: list[dict], columns: list[str]) -> None:
    import torch

    device = _device()
    payload = {"device": device, "command": command, "date": time.strftime("%Y-%m-%d"), "rows": rows}
    (results / f"gpu_{part}.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    write_results(results / f"gpu_{part}.md", [f"# {intro} ({device})", "", machine_line(torch=torch.__version__),
                                               f"Command: `{command}`", ""] + _table(rows, columns))


def deep(scratch: Path, dry: bool, results: Path) -> tuple[list[dict], list[str]]:
    gpu = [] if dry else ["--gpus-per-trial", "0.25"]
    budget = "20s" if dry else "120s"
    digits = digits_image_folder(scratch)
    rows = [_recommend(digits, ["--family", "cnn", "--budget", budget, *gpu], scratch),
            _recommend(ROOT / "examples" / "gunpoint.csv.gz", ["--budget", budget, *gpu], scratch),
            _recommend(ROOT / "examples" / "japanesevowels.csv.gz", ["--budget", budget, *gpu], scratch)]
    return rows, ["data", "options", "family", "test_score", "default_score", "trials", "trials_per_min",
                  "population", "gpu_peak_mib", "duel", "wall_s"]


def keras(scratch: Path, dry: bool, results: Path) -> tuple[list[dict], list[str]]:
    budget = "20s" if dry else "90s"
    env = {"KERAS_BACKEND": "torch"}
    cases = [(sklearn_csv("breast_cancer", scratch), "mlp"), (digits_image_folder(scratch), "cnn"),
             (ROOT / "examples" / "italypowerdemand.csv.gz", "rnn")]
    rows = [_recommend(path, ["--family", family, "--tuner", "keras", "--budget", budget], scratch, env)
            for path, family in cases]
    return rows, ["data", "options", "family", "test_score", "default_score", "trials", "trials_per_min",
                  "gpu_peak_mib", "wall_s"]


def batch(scratch: Path, dry: bool, results: Path) -> tuple[list[dict], list[str]]:
    gpus = 0 if dry else 0.25
    budget = "60s"  # five jobs share the machine: on a 2-core CPU less leaves some without a finished trial
    data = {"wine": (sklearn_csv("wine", scratch), {}), "digits": (digits_image_folder(scratch), {"gpus_per_trial": gpus}),
            "gunpoint": (ROOT / "examples" / "gunpoint.csv.gz", {"gpus_per_trial": gpus}),
            "texts": (short_texts_csv(scratch), {}), "iris_unlabelled": (unlabelled_iris_csv(scratch), {})}
    jobs = ["defaults:", f"  budget: {budget}", "jobs:"]
    for name, (path, extra) in data.items():
        jobs += [f"  - data: {path}", f"    name: {name}"] + [f"    {k}: {v}" for k, v in extra.items()]
    jobs_file = scratch / "jobs.yaml"
    jobs_file.write_text("\n".join(jobs) + "\n", encoding="utf-8")
    out = scratch / "batch"
    started = time.perf_counter()
    with GpuMemory() as memory:
        done = subprocess.run([sys.executable, "-m", "advisor", "batch", str(jobs_file), "--out", str(out), "--json"],
                              capture_output=True, text=True, cwd=ROOT)
    if not (out / "batch.json").is_file():  # a failed job is a row of the table; no batch.json is a failed run
        raise SystemExit(f"advisor batch failed:\n{done.stderr[-3000:]}")
    summary = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    kept = results / "gpu_batch"  # the index page, batch.json and each job's report and result
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(out, kept, ignore=shutil.ignore_patterns("tuning", "model*", "*.keras", "*.ubj", "*.skops", "*.pt"))
    rows = [dict(job, gpu_peak_mib=memory.peak_mib, batch_wall_s=round(time.perf_counter() - started, 1))
            for job in summary.get("jobs", [])]
    return rows, sorted({k for r in rows for k in r if not isinstance(r[k], (dict, list))})


PARTS = {"deep": (deep, "CNN and RNN tuned with Ray Tune on one GPU"),
         "keras": (keras, "KerasTuner backend on Keras 3 with KERAS_BACKEND=torch"),
         "batch": (batch, "A batch over five modalities on one GPU")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["throughput", *PARTS])
    parser.add_argument("--dry-run", action="store_true", help="on this machine's CPU, short budgets, no GPU options")
    args = parser.parse_args()
    command = "python bench/gpu_session.py " + " ".join(sys.argv[1:])
    results = Path(tempfile.mkdtemp(prefix="gpu-dry-run-")) if args.dry_run else ROOT / "bench" / "results"
    if args.part == "throughput":  # issue 9's measurement: the canonical probe's variant A, then populations
        probe = ROOT / ".whl" / "canonical_probe.py"
        options = (["--rows", "2000", "--populations", "1", "4", "--configs", "8", "--cli-budget", "10s"] if args.dry_run
                   else ["--gpu", "--canonical", str(probe), "--rows", "200000", "--populations", "64", "--configs", "128"])
        subprocess.run([sys.executable, str(ROOT / "bench" / "population_throughput.py"), *options,
                        "--results", str(results)], check=True, cwd=ROOT)
    else:
        function, intro = PARTS[args.part]
        with tempfile.TemporaryDirectory() as scratch:
            rows, columns = function(Path(scratch), args.dry_run, results)
        _write(results, args.part, command, intro, rows, columns)
    print(f"results in {results}")
    if os.environ.get("OUT"):  # the device machine sends back what lies under $OUT
        for path in results.glob("*gpu*"):
            target = Path(os.environ["OUT"]) / path.name
            (shutil.copytree if path.is_dir() else shutil.copy)(path, target)


if __name__ == "__main__":
    main()
