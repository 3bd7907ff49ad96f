"""Loading: bad input fails with one clear line and exit 2; odd but valid files load correctly."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from advisor.errors import InputError
from advisor.loading import load

GOOD_ROWS = "".join(f"{i},{i * 2},{'a' if i % 2 else 'b'}\n" for i in range(30))


def write(path, content, mode="w", **kwargs):
    with open(path, mode, **kwargs) as handle:
        handle.write(content)
    return path


BAD_INPUTS = {
    "missing": (lambda d: d / "nope.csv", "no such file"),
    "empty": (lambda d: write(d / "empty.csv", ""), "empty"),
    "whitespace": (lambda d: write(d / "blank.csv", "\n\n   \n"), "no text"),
    "header_only": (lambda d: write(d / "header.csv", "a,b,label\n"), "no data rows"),
    "too_few_rows": (lambda d: write(d / "few.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n"), "at least 10"),
    "binary_garbage": (lambda d: write(d / "garbage.csv", os.urandom(4096) + b"\x00" * 10, "wb"), "binary"),
    "ragged": (lambda d: write(d / "ragged.csv", "a,b,label\n" + GOOD_ROWS + "1,2,3,4,5\n"), "ragged"),
    "constant_target": (
        lambda d: write(d / "const.csv", "a,b,label\n" + "".join(f"{i},{i},same\n" for i in range(20))),
        "same value",
    ),
    "empty_target": (lambda d: write(d / "nolabel.csv", "a,b,label\n" + "".join(f"{i},{i},\n" for i in range(20))), "empty in every row"),
    "fake_parquet": (lambda d: write(d / "fake.parquet", "a,b\n1,2\n"), "not a Parquet file"),
    "bad_gzip": (lambda d: write(d / "bad.csv.gz", b"\x1f\x8b\x08\x00garbage-not-deflate" * 3, "wb"), "gzip"),
    "zip_archive": (lambda d: write(d / "sheet.xlsx", b"PK\x03\x04" + b"\x00" * 100, "wb"), "ZIP"),
    "folder_without_images": (lambda d: (d / "nothing").mkdir() or d / "nothing", "no images"),
    "only_target": (lambda d: write(d / "onlytarget.csv", "label\n" + "x\ny\n" * 10), "feature columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_one_line_and_exit_2(case, run_cli, tmp_path):
    make, expected = BAD_INPUTS[case]
    path = make(tmp_path)
    result = run_cli("recommend", path, "--no-tune")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("advisor: error:")]
    assert len(errors) == 1, result.stderr
    assert expected.lower() in errors[0].lower()
    assert "Traceback" not in result.stderr


def test_unknown_target_suggests_close_names(run_cli, tmp_path):
    path = write(tmp_path / "t.csv", "alpha,beta,label\n" + GOOD_ROWS)
    result = run_cli("recommend", path, "--target", "alpah", "--no-tune")
    assert result.exit_code == 2
    assert "did you mean 'alpha'" in result.stderr


def test_bad_input_from_a_real_process_has_no_traceback(tmp_path):
    garbage = write(tmp_path / "garbage.bin", os.urandom(2048) + b"\x00", "wb")
    done = subprocess.run(
        [sys.executable, "-m", "advisor", "recommend", str(garbage), "--no-tune"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("advisor: error:") and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_usage_error_exits_2(run_cli):
    assert run_cli("recommend").exit_code == 2
    assert run_cli("recommend", "x.csv", "--family", "svm").exit_code == 2


# --- odd but valid files ---------------------------------------------------------------------


def test_other_delimiters_are_sniffed(tmp_path):
    for name, delimiter in (("semi.csv", ";"), ("tabs.tsv", "\t"), ("pipes.txt", "|")):
        body = "".join(f"{i}{delimiter}{i * 0.5}{delimiter}{'x' if i % 3 else 'y'}\n" for i in range(20))
        dataset = load(write(tmp_path / name, f"a{delimiter}b{delimiter}label\n" + body))
        assert list(dataset.frame.columns) == ["a", "b", "label"], name
        assert dataset.frame["b"].iloc[3] == 1.5
        assert dataset.target == "label"


def test_comma_decimal_style_semicolon_file_keeps_text_values(tmp_path):
    body = "".join(f"{i};Müller, Hans;{i % 2}\n" for i in range(20))
    frame = load(write(tmp_path / "semi.csv", "id;name;label\n" + body)).frame
    assert frame["name"].iloc[0] == "Müller, Hans"


def test_latin1_file_decodes(tmp_path):
    body = "".join(f"{i},café crème,{i % 2}\n" for i in range(20))
    dataset = load(write(tmp_path / "latin.csv", ("x,drink,label\n" + body).encode("latin-1"), "wb"))
    assert dataset.frame["drink"].iloc[0] == "café crème"


@pytest.mark.parametrize("separator", [",", "\t"])
def test_utf16_with_a_byte_order_mark_decodes(tmp_path, examples_dir, separator):
    """Excel's "Unicode text" export is UTF-16 with a BOM (and tabs); its NUL bytes were taken for a
    binary file and refused."""
    wine = pd.read_csv(examples_dir / "wine.csv").head(40)
    wine["region"] = ["Rhône", "Mosel"] * 20
    path = tmp_path / "wine_utf16.txt"
    wine.to_csv(path, sep=separator, index=False, encoding="utf-16")
    frame = load(path, "target").frame
    assert list(frame.columns) == list(wine.columns)
    assert frame["region"].tolist() == wine["region"].tolist()
    assert np.allclose(frame["proline"].to_numpy(dtype=float), wine["proline"].to_numpy())


def test_decimal_commas_with_semicolons_read_as_numbers(tmp_path, examples_dir):
    """Excel in most of Europe writes "14,23" and separates fields with ";": those columns were read
    as text (one-hot categories) and wine scored 0.64; they are numbers."""
    wine = pd.read_csv(examples_dir / "wine.csv").head(60)
    path = tmp_path / "wine_eu.csv"
    wine.to_csv(path, sep=";", decimal=",", index=False)
    assert "14,23;" in path.read_text()
    frame = load(path, "target").frame
    assert pd.api.types.is_float_dtype(frame["alcohol"])
    np.testing.assert_allclose(frame["alcohol"].to_numpy(dtype=float), wine["alcohol"].to_numpy())
    plain = tmp_path / "plain.csv"  # commas as delimiters stay delimiters, points stay decimal points
    wine.to_csv(plain, index=False)
    np.testing.assert_allclose(load(plain, "target").frame["alcohol"].to_numpy(dtype=float), wine["alcohol"].to_numpy())


@pytest.mark.parametrize("orient", ["lines", "records", "columns"])
def test_json_records_lines_and_pandas_columns_load_as_tables(tmp_path, examples_dir, orient):
    """JSON Lines were read as CSV split on commas, and a run went on to cluster '{"alcohol":14.23'."""
    wine = pd.read_csv(examples_dir / "wine.csv").head(50)
    path = tmp_path / f"wine_{orient}.json"
    wine.to_json(path, orient="records" if orient == "lines" else orient, lines=orient == "lines")
    dataset = load(path)
    assert dataset.format == "json" and dataset.target == "target"
    assert list(dataset.frame.columns) == list(wine.columns) and len(dataset.frame) == 50
    np.testing.assert_allclose(dataset.frame["proline"].to_numpy(dtype=float), wine["proline"].to_numpy())


@pytest.mark.parametrize("content, message", [
    ('{"a": 1, "b": [1, 2]}\n{"a": 2, "b": [3]}\n', r"JSON field\(s\) b hold nested objects or lists"),
    ('{"a": 1, "b": \n', r"starts like JSON but cannot be read as records"),
])
def test_nested_or_broken_json_is_refused_in_one_line(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        load(write(tmp_path / "bad.json", content))


def test_money_and_percent_columns_read_as_numbers_for_training_and_prediction(tmp_path):
    """scikit-learn's diabetes with its target written as money and bmi as a percent, as a spreadsheet
    exports them: the target was read as 214 classes and tuned to 0 accuracy. Both are numbers (the
    figure as written), the note names them, and `advisor predict` reads new rows the same way; a
    column of numbers with a unit, and one with a word among its numbers, stay text."""
    from sklearn.datasets import load_diabetes

    from advisor.loading import read_rows

    frame = load_diabetes(as_frame=True).frame.head(120)
    written = frame.assign(target=[f"${v * 10:,.2f}" for v in frame["target"]], bmi=[f"{v * 100:.1f}%" for v in frame["bmi"]],
                           code=[f"{i % 9} kg" for i in range(120)], mixed=["unknown"] + [f"${i:,}" for i in range(119)])
    path = tmp_path / "money.csv"
    written.to_csv(path, index=False)
    dataset = load(path)
    assert "$1,510.00" in path.read_text() and "'bmi', 'target'" in dataset.notes[0]
    np.testing.assert_allclose(dataset.frame["target"].to_numpy(), frame["target"].to_numpy() * 10)
    np.testing.assert_allclose(dataset.frame["bmi"].to_numpy(), (frame["bmi"] * 100).round(1).to_numpy())
    assert dataset.frame["code"].iloc[1] == "1 kg" and dataset.frame["mixed"].iloc[0] == "unknown"
    np.testing.assert_allclose(read_rows(path)["target"].to_numpy(), dataset.frame["target"].to_numpy())


def test_gzip_with_and_without_suffix(tmp_path):
    content = ("a,b,label\n" + GOOD_ROWS).encode()
    for name in ("data.csv.gz", "data_gz_no_suffix"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(content))
        frame = load(path).frame
        assert frame.shape == (30, 3) and frame["b"].iloc[29] == 58


def test_nan_and_inf_cells(tmp_path):
    body = "".join(f"{i},{'inf' if i == 3 else '-inf' if i == 4 else 'NaN' if i == 5 else i / 2},{i % 2}\n" for i in range(20))
    frame = load(write(tmp_path / "naninf.csv", "a,b,label\n" + body)).frame
    assert np.isinf(frame["b"].iloc[3]) and np.isnan(frame["b"].iloc[5])


def test_duplicate_and_blank_column_names_are_kept_apart_and_the_run_says_so(tmp_path):
    dataset = load(write(tmp_path / "dups.csv", "a,a,,label\n" + "".join(f"{i},{-i},{i * 3},{i % 2}\n" for i in range(20))))
    frame = dataset.frame
    assert list(frame.columns) == ["a", "a.1", "column_3", "label"]
    assert frame["a.1"].iloc[2] == -2
    # The run says so (result.json's notes, the report): the names the columns got, and how to choose them.
    assert dataset.notes == ("column names blank or repeated in the file were made unique: 'a' as 'a.1', a column "
                             "with no name as 'column_3'; rename them in the file to choose the names",)
    assert "renamed" not in frame.attrs
    records = tmp_path / "dups.json"
    records.write_text("\n".join('{"x": %d, "label": %d}' % (i, i % 2) for i in range(20)), encoding="utf-8")
    assert load(records).notes == ()  # names unique already: nothing to say


def test_unicode_headers_and_bom(tmp_path):
    body = "".join(f"{i},{i % 3}\n" for i in range(20))
    dataset = load(write(tmp_path / "uni.csv", "\ufeffтемпература °C,label\n" + body, encoding="utf-8"))
    assert list(dataset.frame.columns) == ["температура °C", "label"]


def test_quoted_newlines(tmp_path):
    body = "".join(f'{i},"line one\nline two {i}",{i % 2}\n' for i in range(20))
    frame = load(write(tmp_path / "quoted.csv", "a,note,label\n" + body)).frame
    assert frame.shape == (20, 3)
    assert frame["note"].iloc[4] == "line one\nline two 4"


def test_parquet_file(tmp_path):
    frame = pd.DataFrame({"x": np.arange(20.0), "colour": ["r", "g"] * 10, "label": [0, 1] * 10})
    frame.to_parquet(tmp_path / "data.parquet")
    dataset = load(tmp_path / "data.parquet")
    assert dataset.format == "parquet" and dataset.frame.shape == (20, 3) and dataset.target == "label"


def test_target_found_by_conventional_name_case_insensitive(tmp_path):
    dataset = load(write(tmp_path / "t.csv", "a,b,Class\n" + GOOD_ROWS))
    assert dataset.target == "Class"


def test_no_target_means_unlabelled(tmp_path):
    dataset = load(write(tmp_path / "u.csv", "a,b,c\n" + GOOD_ROWS))
    assert dataset.target is None and "unlabelled" in dataset.target_reason


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "absent.csv")
