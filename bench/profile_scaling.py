"""Profile + decision time against rows, for a 50-column CSV (45 numeric, 4 categorical, 1 target).

    python bench/profile_scaling.py [--rows 10000 100000 1000000 5000000] [--folder bench/data]

Each size is timed end to end in a fresh process (`advisor recommend FILE --no-tune --json`, so
interpreter start-up and imports are included) and, side by side, the peer: a plain
`pandas.read_csv` of the same file in a fresh process. Results go to bench/results/profile_scaling.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_line, run_advisor, timed  # noqa: E402
NUMERIC, CATEGORICAL = 45, 4


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Write in chunks so a million rows never sit in memory as one frame of Python objects."""
    rng = np.random.default_rng(seed)
    chunk = 100_000
    with open(path, "w", encoding="utf-8") as handle:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            x = rng.normal(size=(n, NUMERIC))
            frame = pd.DataFrame(x, columns=[f"num{i}" for i in range(NUMERIC)])
            for j in range(CATEGORICAL):
                frame[f"cat{j}"] = rng.choice(["alpha", "beta", "gamma", "delta", "epsilon"], size=n)
            logits = x[:, 0] * x[:, 1] + np.sin(x[:, 2]) + (frame["cat0"] == "beta").to_numpy()
            frame["target"] = (logits + rng.normal(scale=0.5, size=n) > 0.5).astype(int)
            frame.to_csv(handle, index=False, header=start == 0, float_format="%.6g")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 5_000_000])
    parser.add_argument("--folder", type=Path, default=ROOT / "bench" / "data")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results" / "profile_scaling.md")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for rows in args.rows:
        path = args.folder / f"scaling_{rows}.csv"
        if not path.exists():
            make_csv(path, rows)
        with tempfile.TemporaryDirectory() as runs:
            result, advisor_s = run_advisor("recommend", str(path), "--no-tune", "--out", f"{runs}/run")
        pandas_s, _ = timed([sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"])
        timings = result["timings"]
        lines.append(
            f"| {rows:,} | {path.stat().st_size / 1e6:,.0f} | {advisor_s:.2f} | {timings['load_s']:.2f} | "
            f"{timings['profile_s']:.2f} | {timings['rules_s']:.3f} | {pandas_s:.2f} | {advisor_s / pandas_s:.2f} | {result['family']} |"
        )
        print(lines[-1], flush=True)
    header = [
        "# Profile + decision time against rows",
        "",
        machine_line(pandas=pd.__version__, numpy=np.__version__),
        f"Command: `python bench/profile_scaling.py --rows {' '.join(str(r) for r in args.rows)}`",
        "",
        "50 columns (45 numeric, 4 categorical, 1 binary target). `advisor s` is the whole "
        "`advisor recommend FILE --no-tune --json` process (start-up, load, profile, probe, rules, report); "
        "`pandas s` is the peer run side by side: a fresh process doing only `pandas.read_csv(FILE)`.",
        "",
        "Fixed costs (interpreter start-up and imports, about 1.5 s; the linearity probe, which "
        "cross-validates on at most 2,000 sampled rows whatever the file's size) dominate small files; "
        "what grows with rows is reading the file and the per-column missing counts, both linear.",
        "",
        "| rows | MB | advisor s | load s | profile s | rules s | pandas s | advisor / pandas | family |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
