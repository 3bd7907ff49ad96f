"""Real sequence-classification sets from the UCR/UEA archive, as long-format CSVs shipped in
examples/ (so nothing is downloaded at run time).

The `.ts` files come from the aeon wheel, which bundles GunPoint, ItalyPowerDemand and
JapaneseVowels. aeon is not a dependency of the advisor; to regenerate the shipped files:

    pip download aeon==1.6.0 --no-deps -d /tmp/aeon && python -m examples.make_ucr /tmp/aeon/aeon-1.6.0-py3-none-any.whl

Each set's TRAIN and TEST files are joined (the advisor makes its own seeded split). Sources:
GunPoint (Ratanamahatana and Keogh, 2005), ItalyPowerDemand (Keogh et al.), JapaneseVowels (Kudo,
Toyama and Shimbo, 1999; 12 channels, 7 to 29 steps); www.timeseriesclassification.com.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

SETS = ("GunPoint", "ItalyPowerDemand", "JapaneseVowels")
HERE = Path(__file__).resolve().parent


def parse_ts(text: str) -> tuple[list[np.ndarray], list[str]]:
    """The `.ts` format: '@' header lines, then one series per line, channels separated by ':',
    steps by ',', the class label last; '?' is a missing value. Returns (steps, channels) arrays."""
    series, labels, in_data = [], [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            in_data = in_data or line.lower().startswith("@data")
            continue
        if not in_data:
            continue
        *channels, label = line.split(":")
        columns = [np.array([np.nan if v == "?" else float(v) for v in channel.split(",")]) for channel in channels]
        length = max(len(c) for c in columns)
        series.append(np.column_stack([np.pad(c, (0, length - len(c)), constant_values=np.nan) for c in columns]))
        labels.append(label.strip())
    return series, labels


def to_long(series: list[np.ndarray], labels: list[str]) -> pd.DataFrame:
    """One row per (series, step): series_id, step, value columns (value, or dim_0..), label."""
    parts = []
    for index, (values, label) in enumerate(zip(series, labels)):
        names = ["value"] if values.shape[1] == 1 else [f"dim_{j}" for j in range(values.shape[1])]
        part = pd.DataFrame(values, columns=names)
        part.insert(0, "step", np.arange(len(values)))
        part.insert(0, "series_id", index)
        part["label"] = label
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def convert(wheel: Path, folder: Path = HERE) -> list[Path]:
    written = []
    with zipfile.ZipFile(wheel) as archive:
        for name in SETS:
            series, labels = [], []
            for split in ("TRAIN", "TEST"):
                text = archive.read(f"aeon/datasets/data/{name}/{name}_{split}.ts").decode("utf-8")
                more_series, more_labels = parse_ts(text)
                series += more_series
                labels += more_labels
            path = folder / f"{name.lower()}.csv.gz"
            to_long(series, labels).to_csv(path, index=False, float_format="%.6g")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in convert(Path(sys.argv[1])):
        print(path, path.stat().st_size, "bytes")
