"""Delimited text (CSV, TSV, any sniffed delimiter, decimal commas; optionally gzipped), JSON records
(an array of objects, or JSON Lines) and Parquet -> a DataFrame.

pyarrow does the parsing (multi-threaded, so a 1M-row file loads in seconds); this module only
decides how to call it and turns its failures into sentences a user can act on.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from advisor.errors import InputError

HEAD_BYTES = 64 * 1024
SNIFF_LINES = 50
DELIMITERS = (",", "\t", ";", "|")
# Decimal commas (Excel in most of Europe writes "14,23" and separates fields with ";").
COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
POINT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# Formats people hand over by mistake, recognised by their first bytes.
FOREIGN_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (or an Excel .xlsx workbook): unzip it or save the sheet as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document: save the sheet as CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image: to use images, pass a folder with one subfolder per class",
    b"\xff\xd8\xff": "a JPEG image: to use images, pass a folder with one subfolder per class",
}


def read_table(path: Path) -> tuple[pd.DataFrame, str, list[tuple[str, str]]]:
    """Read a table file; return the frame, its format name (csv, tsv, parquet, json) and the
    (name in the file, name given) pairs of the columns whose names were blank or repeated."""
    frame, file_format = _read_any(path)
    return frame, file_format, frame.attrs.pop("renamed", [])


def _read_any(path: Path) -> tuple[pd.DataFrame, str]:
    raw_head = _read_bytes(path, 8)
    if not raw_head:
        raise InputError(f"{path}: the file is empty. Give a CSV/TSV or Parquet file with a header row and data rows.")
    suffixes = [s.lower() for s in path.suffixes]
    if raw_head.startswith(PARQUET_MAGIC):
        return _read_parquet(path), "parquet"
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        raise InputError(
            f"{path}: named like Parquet but it is not a Parquet file (no PAR1 header). "
            "Export it again as Parquet, or rename it if it is really CSV."
        )
    for magic, what in FOREIGN_MAGIC.items():
        if raw_head.startswith(magic):
            raise InputError(f"{path}: this is {what}. The advisor reads CSV/TSV (optionally .gz) and Parquet.")
    compressed = raw_head.startswith(GZIP_MAGIC)
    head = _decompressed_head(path) if compressed else _read_bytes(path, HEAD_BYTES)
    # Excel's "Unicode text" and Windows tools write UTF-16 with a byte-order mark: its NUL bytes are text.
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not utf16:
        _reject_binary(head, path)
    encoding = "utf-16" if utf16 else _guess_encoding(head)
    text = head.decode(encoding, errors="replace")
    if not text.strip():
        raise InputError(f"{path}: the file holds no text. Give a CSV/TSV file with a header row and data rows.")
    if text.lstrip().startswith(("{", "[")):
        return _read_json(path, compressed, encoding, lines=text.lstrip().startswith("{")), "json"
    delimiter = _sniff_delimiter(text, prefer_tab=".tsv" in suffixes or ".tab" in suffixes)
    table = _read_delimited(path, compressed, encoding, delimiter, _decimal_point(text, delimiter))
    return _to_frame(table, path), ("tsv" if delimiter == "\t" else "csv")


def _read_bytes(path: Path, count: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(count)
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror or error}). Check the path and its permissions.") from None


def _decompressed_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: looks gzipped but does not decompress ({error}). Re-create the .gz file.") from None


def _reject_binary(head: bytes, path: Path) -> None:
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    if b"\x00" in head or control > 0.01 * max(len(head), 1):
        raise InputError(
            f"{path}: does not look like a text table (binary bytes in the first {len(head)} bytes). "
            "Give a CSV/TSV (optionally .gz) or a Parquet file."
        )


def _guess_encoding(head: bytes) -> str:
    """UTF-8 when the head decodes as UTF-8 (a character cut at the end is fine), else Latin-1."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def _sniff_delimiter(text: str, prefer_tab: bool) -> str:
    """Pick the delimiter that splits the first lines into the most fields, most consistently."""
    lines = text.splitlines()
    if len(lines) > 1:
        lines = lines[:-1]  # the head may end mid-line
    sample = "\n".join(lines[:SNIFF_LINES])
    best, best_key = ",", (0.0, 1, False)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        key = (round(consistent, 2), counts[0], prefer_tab and delimiter == "\t")
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _decimal_point(text: str, delimiter: str) -> str:
    """"," where the first lines' decimals are written with commas (fields not split on commas)."""
    if delimiter == ",":
        return "."
    fields = [f.strip() for row in csv.reader(io.StringIO("\n".join(text.splitlines()[:SNIFF_LINES])), delimiter=delimiter)
              for f in row]
    commas = sum(1 for f in fields if COMMA_DECIMAL.match(f))
    return "," if commas > sum(1 for f in fields if POINT_DECIMAL.match(f)) else "."


def _read_delimited(path: Path, compressed: bool, encoding: str, delimiter: str, decimal_point: str = ".") -> pa.Table:
    # Naming UTF-8 explicitly sends pyarrow through its (slower) transcoding path; it is the default.
    read_options = pa_csv.ReadOptions() if encoding == "utf-8" else pa_csv.ReadOptions(encoding=encoding)
    convert_options = pa_csv.ConvertOptions(strings_can_be_null=True, decimal_point=decimal_point)
    last_error: Exception | None = None
    # Quoted newlines need the slower single-pass parser; try the fast one first.
    for newlines_in_values in (False, True):
        parse_options = pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values)
        try:
            stream = pa.input_stream(str(path), compression="gzip" if compressed else None)
            with stream:
                return pa_csv.read_csv(
                    stream, read_options=read_options, parse_options=parse_options, convert_options=convert_options
                )
        except pa.ArrowInvalid as error:
            last_error = error
        except (OSError, zlib.error, EOFError) as error:
            raise InputError(f"{path}: cannot read the file ({error}).") from None
    message = str(last_error).replace("CSV parse error: ", "")
    if "Empty CSV file" in message:
        raise InputError(f"{path}: the file is empty. Give a CSV/TSV file with a header row and data rows.")
    if "columns, got" in message:
        shown = " ".join(message.split())[:160]
        raise InputError(
            f"{path}: ragged rows ({shown}). Every row needs as many fields as the header; "
            "quote fields that contain the delimiter."
        )
    raise InputError(f"{path}: cannot parse as delimited text ({' '.join(message.split())[:200]}).")


def _read_json(path: Path, compressed: bool, encoding: str, lines: bool) -> pd.DataFrame:
    """JSON Lines (one object a line) or an array of objects, each object a row; nested objects are
    refused (their fields are not columns)."""
    try:
        frame = pd.read_json(path, lines=lines, orient="records" if lines else None, encoding=encoding, dtype=False,
                             compression="gzip" if compressed else None)
    except (ValueError, UnicodeError) as error:
        raise InputError(f"{path}: starts like JSON but cannot be read as records ({' '.join(str(error).split())[:160]}). "
                         "Give an array of objects or one object a line (JSON Lines), or a CSV file.") from None
    nested = _nested(frame)
    if nested and lines and len(frame) == 1:  # one object of columns (pandas' to_json default), not a line a row
        frame = _read_json(path, compressed, encoding, lines=False)
        nested = _nested(frame)
    if nested:
        raise InputError(f"{path}: JSON field(s) {', '.join(nested[:3])} hold nested objects or lists, not values. "
                         "Flatten them into one value a field (pandas.json_normalize), or give a CSV file.")
    names = [str(name) for name in frame.columns]
    frame.columns = unique_column_names(names)
    return _with_renames(frame, names)


def _nested(frame: pd.DataFrame) -> list[str]:
    return [str(name) for name in frame.columns if frame[name].map(lambda value: isinstance(value, (dict, list))).any()]


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{path}: not a readable Parquet file ({' '.join(str(error).split())[:200]}).") from None
    return _to_frame(table, path)


def _to_frame(table: pa.Table, path: Path) -> pd.DataFrame:
    original = table.column_names
    names = unique_column_names(original)
    table = table.rename_columns(names)
    # Bytes that are not valid text (a file mixing encodings) arrive as binary: read them as Latin-1.
    for index, field in enumerate(table.schema):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            decoded = [None if v is None else v.decode("latin-1") for v in table.column(index).to_pylist()]
            table = table.set_column(index, field.name, pa.array(decoded, pa.string()))
    try:
        return _with_renames(table.to_pandas(), original)
    except (pa.ArrowException, ValueError) as error:
        raise InputError(f"{path}: a column cannot be converted ({error}).") from None


def _with_renames(frame: pd.DataFrame, original: list[str]) -> pd.DataFrame:
    """`frame` with attrs["renamed"]: the (name in the file, name given) pairs unique_column_names changed."""
    frame.attrs["renamed"] = [(old, new) for old, new in zip(original, frame.columns) if old != new]
    return frame


def renaming_notes(renamed: list[tuple[str, str]]) -> tuple[str, ...]:
    """What the run's notes say about columns whose names were blank or repeated in the file."""
    if not renamed:
        return ()
    shown = ", ".join(f"{old!r} as {new!r}" if old.strip() else f"a column with no name as {new!r}"
                      for old, new in renamed[:5])
    more = f" and {len(renamed) - 5} more" if len(renamed) > 5 else ""
    return (f"column names blank or repeated in the file were made unique: {shown}{more}; "
            "rename them in the file to choose the names",)


def unique_column_names(names: list[str]) -> list[str]:
    """Blank names become column_N; repeats get .1, .2 (as pandas does) so no column is lost."""
    result: list[str] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        base = name if name.strip() else f"column_{position}"
        candidate, n = base, 0
        while candidate in seen:
            n += 1
            candidate = f"{base}.{n}"
        seen.add(candidate)
        result.append(candidate)
    return result
