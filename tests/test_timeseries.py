"""advisor/timeseries.py: which tables are series to forecast, on statsmodels' bundled series read
back from CSV as a user would hand them over (issue 19's detection)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from advisor.errors import InputError
from advisor.loading import load
from advisor.timeseries import detect

sm = pytest.importorskip("statsmodels.api")


def _csv(frame: pd.DataFrame, folder, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return load(path, frame.columns[-1]).frame


@pytest.fixture(scope="module")
def co2(tmp_path_factory) -> pd.DataFrame:
    """Mauna Loa CO2, weekly from 1958 (the gaps filled as statsmodels' example does), rows shuffled."""
    series = sm.datasets.co2.load_pandas().data["co2"].interpolate()
    frame = pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "co2": series.to_numpy()})
    return _csv(frame.sample(frac=1.0, random_state=0), tmp_path_factory.mktemp("co2"), "co2")


def test_one_weekly_series_with_rows_in_any_order(co2):
    shape = detect(co2, "co2")
    assert (shape.time_column, shape.series_column, shape.series) == ("date", None, 1)
    assert shape.frequency == "W-SAT" and shape.lengths == {"min": 2284, "median": 2284, "max": 2284}
    assert shape.season_length == 52 and "confirmed by autocorrelation" in shape.season_reason
    # A rising series with a strong yearly cycle: STL's strengths near 1, and a unit root not rejected.
    assert shape.trend_strength > 0.99 and shape.seasonal_strength > 0.9
    assert shape.stationary is False and shape.adf_pvalue > 0.05


def test_yearly_whole_numbers_named_as_a_time_are_steps_without_a_season(tmp_path):
    sunspots = _csv(sm.datasets.sunspots.load_pandas().data, tmp_path, "sunspots")  # YEAR 1700.0 ... 2008.0
    shape = detect(sunspots, "SUNACTIVITY")
    assert (shape.time_column, shape.frequency, shape.season_length, shape.series) == ("YEAR", "step", 1, 1)
    assert shape.seasonal_strength is None and 0.0 <= shape.trend_strength < 0.5  # an 11-year cycle, no trend


def test_a_panel_in_long_format_is_told_apart_by_its_series_column(tmp_path):
    """macrodata's real GDP, consumption and investment, quarterly 1959-2009, stacked with a series id."""
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                          freq="Q").to_timestamp()
    wide = pd.DataFrame({"quarter": quarters.strftime("%Y-%m-%d"), **{c: macro[c] for c in ("realgdp", "realcons",
                                                                                              "realinv")}})
    long = wide.melt(id_vars="quarter", var_name="series", value_name="value")
    shape = detect(_csv(long, tmp_path, "macro"), "value")
    assert (shape.time_column, shape.series_column, shape.series) == ("quarter", "series", 3)
    assert shape.frequency.startswith("QS") and shape.lengths["min"] == shape.lengths["max"] == 203
    assert shape.covariates == () and shape.covariates_left_out == ()  # the series id is no covariate


def test_the_other_numeric_columns_are_covariates_and_the_rest_left_out_with_why(tmp_path):
    """macrodata's consumption to forecast, beside the quarter's other measures."""
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.PeriodIndex.from_fields(year=macro["year"].astype(int), quarter=macro["quarter"].astype(int),
                                          freq="Q").to_timestamp()
    frame = pd.DataFrame({"quarter": quarters.strftime("%Y-%m-%d"), "unemp": macro["unemp"],
                          "infl": macro["infl"].where(macro.index != 5), "source": "FRED", "realcons": macro["realcons"]})
    shape = detect(_csv(frame, tmp_path, "macro"), "realcons")
    assert shape.covariates == ("unemp",)
    assert shape.covariates_left_out == ("'infl' (missing in 1 rows)", "'source' (not numeric)")


def test_irregular_or_repeated_timestamps_are_no_series_unasked_and_refused_with_the_rows_when_asked(co2):
    ordered = co2.assign(when=pd.to_datetime(co2["date"])).sort_values("when").reset_index(drop=True)
    gappy = ordered.drop(index=[100, 101, 102]).drop(columns="when")  # three weeks missing
    assert detect(gappy, "co2") is None
    with pytest.raises(InputError, match=r"steps irregularly: rows 100 and 101 go from 1960-02-20 to 1960-03-19 where the W-SAT series steps to 1960-02-27"):
        detect(gappy, "co2", required=True)
    repeated = pd.concat([ordered.iloc[:50], ordered.iloc[[10]]], ignore_index=True).drop(columns="when")
    assert detect(repeated, "co2") is None
    with pytest.raises(InputError, match=r"repeats .* \(rows 11 and 51\).*--series"):
        detect(repeated, "co2", required=True)


def test_tables_that_are_not_series_stay_tables(examples_dir):
    wine = load(examples_dir / "wine.csv", None).frame
    assert detect(wine, "target") is None  # a class label, and no time column
    assert detect(wine, "alcohol") is None  # a numeric target, but no time column
    with pytest.raises(InputError, match="no time column"):
        detect(wine, "alcohol", required=True)
    counted = wine.assign(patient=np.arange(len(wine)))  # whole-number ids, not named as a time
    assert detect(counted, "alcohol") is None
    assert detect(counted, "alcohol", time="patient").frequency == "step"  # unless named with --time
