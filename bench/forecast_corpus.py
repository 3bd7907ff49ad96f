"""The forecasting corpus (issue 19): real series bundled in statsmodels and pmdarima, written as the
CSV files a user hands over (a time column and `value`; the panel with a `series` column), with the
calendar season the peers are given (FPP3 12.1's periods: monthly 12, quarterly 4, half-hourly 48,
yearly 1) and the horizon every tool forecasts (one season, else 10% of the series).

    python bench/forecast_corpus.py OUT_FOLDER

Nothing is downloaded: statsmodels' and pmdarima's datasets ship in their wheels (shared/DATASETS.md).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable

import pandas as pd


@dataclasses.dataclass(frozen=True)
class Series:
    name: str
    frame: Callable[[], pd.DataFrame]  # columns: time, [series,] value
    season: int  # the calendar season handed to the peers and used for every tool's MASE
    about: str

    @property
    def horizon(self) -> int:
        shortest = self.frame().groupby("series").size().min() if "series" in self.frame() else len(self.frame())
        return self.season if self.season > 1 else max(1, int(0.1 * shortest))


def _sm(name: str):
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def _pm(name: str) -> pd.Series:
    import pmdarima.datasets as datasets

    return getattr(datasets, f"load_{name}")(as_series=True).dropna()  # ausbeer ends in a missing quarter


def _dated(values, start: str, freq: str, column: str = "date", fmt: str = "%Y-%m-%d") -> pd.DataFrame:
    stamps = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({column: stamps.strftime(fmt), "value": list(values)})


def _co2() -> pd.DataFrame:
    monthly = _sm("co2")["co2"].interpolate().resample("MS").mean()
    return pd.DataFrame({"month": monthly.index.strftime("%Y-%m"), "value": monthly.to_numpy().round(3)})


def _macro(column: str) -> pd.DataFrame:
    macro = _sm("macrodata")
    return _dated(macro[column].to_numpy(), "1959-01-01", "QS", "quarter")


PANEL_COLUMNS = ("realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1")


def _macro_panel() -> pd.DataFrame:
    return pd.concat([_macro(c).assign(series=c) for c in PANEL_COLUMNS], ignore_index=True)[
        ["series", "quarter", "value"]]


def _yearly(values, first: int, column: str = "year") -> pd.DataFrame:
    return pd.DataFrame({column: range(first, first + len(values)), "value": list(values)})


CORPUS: tuple[Series, ...] = (
    Series("co2_monthly", _co2, 12, "Mauna Loa CO2, monthly means 1958-2001 (statsmodels co2, weekly gaps filled)"),
    Series("airpassengers", lambda: _dated(_pm("airpassengers").to_numpy(), "1949-01-01", "MS", "month"), 12,
           "airline passengers, monthly 1949-1960 (pmdarima)"),
    Series("wineind", lambda: _dated(_pm("wineind").to_numpy(), "1980-01-01", "MS", "month"), 12,
           "Australian wine sales, monthly 1980-1994 (pmdarima)"),
    Series("woolyrnq", lambda: _dated(_pm("woolyrnq").to_numpy(), "1965-01-01", "QS", "quarter"), 4,
           "Australian woollen yarn production, quarterly 1965-1994 (pmdarima)"),
    Series("ausbeer", lambda: _dated(_pm("ausbeer").to_numpy(), "1956-01-01", "QS", "quarter"), 4,
           "Australian beer production, quarterly from 1956 (pmdarima)"),
    Series("realgdp", lambda: _macro("realgdp"), 4, "US real GDP, quarterly 1959-2009 (statsmodels macrodata)"),
    Series("unemp", lambda: _macro("unemp"), 4, "US unemployment rate, quarterly 1959-2009 (statsmodels macrodata)"),
    Series("sunspots", lambda: _yearly(_sm("sunspots")["SUNACTIVITY"].to_numpy(), 1700), 1,
           "yearly sunspot numbers 1700-2008 (statsmodels)"),
    Series("nile", lambda: _yearly(_sm("nile")["volume"].to_numpy(), 1871), 1,
           "Nile flow at Aswan, yearly 1871-1970 (statsmodels)"),
    Series("lynx", lambda: _yearly(_pm("lynx").to_numpy(), 1821), 1, "Canadian lynx trappings, 1821-1934 (pmdarima)"),
    Series("taylor", lambda: _dated(_pm("taylor").to_numpy(), "2000-06-05", "30min", "time", "%Y-%m-%d %H:%M"), 48,
           "electricity demand in England and Wales, half-hourly, June-August 2000 (pmdarima)"),
    Series("macro_panel", _macro_panel, 4, "seven US macro series in one long table, quarterly (statsmodels)"),
)


def write_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for entry in CORPUS:
        path = folder / f"{entry.name}.csv"
        entry.frame().to_csv(path, index=False)
        written[entry.name] = path
    return written


if __name__ == "__main__":
    for name, path in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "forecast-corpus")).items():
        print(name, path)
