"""Numbers written for people ("$1,234.50", "12%", "€ 30") -> numbers.

Spreadsheets export money and shares as text: such a column was read as categories (a price target
became a class per price, and scored 0 accuracy). A text column whose values are all such numbers,
at least one of them with a currency sign, a thousands separator or a percent sign, is read as the
number written: the signs and separators dropped, a percent kept as the figure (12% -> 12).
"""

from __future__ import annotations

import pandas as pd

FORMATTED = r"[-+]?\s*[$€£¥]?\s*[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*[$€£¥]?\s*%?"
MARKS = r"[$€£¥,%]"
SAMPLE = 1_000  # values looked at before a whole column is tried


def read_formatted_numbers(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The frame with its formatted-number columns as floats, and a note naming them (or none)."""
    converted = {}
    for name in frame.columns:
        numbers = _as_numbers(frame[name])
        if numbers is not None:
            converted[name] = numbers
    if not converted:
        return frame, ()
    names = ", ".join(repr(str(name)) for name in list(converted)[:5]) + (" ..." if len(converted) > 5 else "")
    note = (f"column(s) {names} hold numbers written with currency signs, thousands separators or percent signs: "
            "read as the numbers written (12% as 12)")
    return frame.assign(**{str(k): v for k, v in converted.items()}), (note,)


def _as_numbers(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    present = values.dropna()
    head = present.iloc[:SAMPLE]
    if head.empty or not all(isinstance(v, str) for v in head):
        return None
    head = head.str.strip()  # a sample first: most text columns are not numbers, and a whole column costs
    if not (head.str.fullmatch(FORMATTED).all() and head.str.contains(MARKS).any()):
        return None
    text = present.astype(str).str.strip()
    if not text.str.fullmatch(FORMATTED).all():
        return None
    numbers = pd.to_numeric(text.str.replace(r"[$€£¥,%\s]", "", regex=True), errors="coerce")
    return numbers.reindex(values.index).astype("float64")
