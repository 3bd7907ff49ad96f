"""Real series for the forecast tests, from statsmodels' bundled data (the test extra), written as
the CSV files a user would hand over: Mauna Loa CO2 by month, and macrodata's quarterly panel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="session")
def co2_monthly(tmp_path_factory) -> Path:
    """Mauna Loa CO2, monthly means 1958-2001 (526 months; statsmodels' weekly gaps filled first), shuffled."""
    weekly = sm.datasets.co2.load_pandas().data["co2"].interpolate()
    monthly = weekly.resample("MS").mean()
    frame = pd.DataFrame({"month": monthly.index.strftime("%Y-%m"), "value": monthly.to_numpy().round(3)})
    path = tmp_path_factory.mktemp("co2") / "co2_monthly.csv"
    frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def nile_yearly(tmp_path_factory) -> Path:
    """The Nile's yearly flow at Aswan, 1871-1970 (100 years, no season)."""
    nile = sm.datasets.nile.load_pandas().data
    path = tmp_path_factory.mktemp("nile") / "nile.csv"
    pd.DataFrame({"year": nile["year"].astype(int), "volume": nile["volume"]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def co2_leading(tmp_path_factory) -> Path:
    """Mauna Loa CO2 by month with a leading indicator beside it (`lead`: the value a year later, known a
    year ahead; the last year dropped, whose indicator is not yet known) and a text column (`site`)."""
    weekly = sm.datasets.co2.load_pandas().data["co2"].interpolate()
    monthly = weekly.resample("MS").mean().round(3)
    frame = pd.DataFrame({"month": monthly.index.strftime("%Y-%m"), "value": monthly.to_numpy(),
                          "lead": monthly.shift(-12).to_numpy(), "site": "Mauna Loa"}).iloc[:-12]
    path = tmp_path_factory.mktemp("co2_leading") / "co2_leading.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def macro_panel(tmp_path_factory) -> Path:
    """macrodata's real GDP, consumption, investment and M1, quarterly 1959-2009, in long format."""
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                          freq="Q").to_timestamp()
    wide = pd.DataFrame({"quarter": quarters.strftime("%Y-%m-%d"),
                         **{c: macro[c] for c in ("realgdp", "realcons", "realinv", "m1")}})
    path = tmp_path_factory.mktemp("macro") / "macro_panel.csv"
    wide.melt(id_vars="quarter", var_name="series", value_name="value").to_csv(path, index=False)
    return path
