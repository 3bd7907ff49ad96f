"""Ray Tune against KerasTuner on the same data, family and budget, on this machine's CPU: a table,
digits as images and a sequence set, each tuned with `--tuner ray` (PyTorch models) and with
`--tuner keras` on both Keras backends (TensorFlow; PyTorch with KERAS_BACKEND=torch).

    python bench/tuner_backends.py [--budget 90s]

Written to bench/results/tuner_backends.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, trial_counts, write_results  # noqa: E402
from examples.make_examples import digits_image_folder, sklearn_csv  # noqa: E402

BACKENDS = {  # label -> (advisor options, environment)
    "Ray Tune (PyTorch)": (["--tuner", "ray"], {}),
    "KerasTuner (Keras on TensorFlow)": (["--tuner", "keras"], {"KERAS_BACKEND": "tensorflow"}),
    "KerasTuner (Keras on PyTorch)": (["--tuner", "keras"], {"KERAS_BACKEND": "torch"}),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", default="90s")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "tuner_backends.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        data = {
            "breast cancer (table), mlp": (sklearn_csv("breast_cancer", Path(scratch)), "mlp"),
            "digits PNG folder 8x8, cnn": (digits_image_folder(Path(scratch)), "cnn"),
            "ItalyPowerDemand (sequences), rnn": (ROOT / "examples" / "italypowerdemand.csv.gz", "rnn"),
        }
        for label, (path, family) in data.items():
            for backend, (options, env) in BACKENDS.items():
                out = f"{scratch}/{family}-{len(rows)}"
                r, wall = run_advisor("recommend", str(path), "--family", family, "--budget", args.budget, *options,
                                      "--out", out, env=env)
                tuning = r["tuning"]
                rows.append(
                    f"| {label} | {backend} | {tuning['search']} | {r['best']['test_score']:.4f} | "
                    f"{r['baseline']['test_score']:.4f} | {r['best']['validation_score']:.4f} | {trial_counts(r)} | "
                    f"{tuning['wall_s']:.0f} | {wall:.0f} |"
                )
                print(rows[-1], flush=True)
    import keras
    import keras_tuner
    import ray
    import torch

    lines = [
        "# Ray Tune and KerasTuner on the same data, family and budget, CPU",
        "",
        machine_line(torch=torch.__version__, ray=ray.__version__, keras=keras.__version__,
                     keras_tuner=keras_tuner.__version__) + " No GPU.",
        f"Command: `python bench/tuner_backends.py --budget {args.budget}`",
        "",
        f"Each row is `advisor recommend DATA --family F --budget {args.budget} --tuner T --json` in a fresh process, "
        "seed 0, one after another on the same machine. Both backends search the same space (declared once in "
        "tuners/families/) and score every trial by the same cross-validation; the test split (20%) is the same. "
        "Ray Tune runs random search then coarse to fine with ASHA over folds, trials side by side on the cores "
        "(PyTorch models); KerasTuner runs the seeds' starting point, then Hyperband over epochs, one trial at a time "
        "(Keras 3 models). `default` is the family's starting configuration refitted on the same rows. Trials: all "
        "(completed / stopped early / failed), the rnn duel not counted. `tuning s` is the tuning stage's wall time "
        "(search, refit, test); `wall s` includes start-up.",
        "",
        "| data, family | backend | search | test score (tuned) | default | best validation | trials | tuning s | wall s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    write_results(args.results, lines)


if __name__ == "__main__":
    main()
