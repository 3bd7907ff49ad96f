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
