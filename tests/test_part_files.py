"""part_files.py writes a part's CSV lines and JSON lines without pandas: the same bytes and
values as the DataFrame path (`export.frame`, `to_csv`)."""

from pathlib import Path

import pytest

from imr_extract.batch import process_file
from imr_extract.export import TABLES, column_dtype, frame
from imr_extract.part_files import csv_lines, json_lines, read_rows

from conftest import SAMPLES

EDGE = {  # cells that test quoting, missing values and number formats
    "string": ["a,b", 'say "x"', "line\nbreak", "cr\ronly", "", " lead", "é", None, 7, 2.5, True],
    "Int64": [0, -3, 12, None, 12.0, 2**40, float("nan"), 7, 1, 2, 3],
    "Float64": [12.0, 0.1, 1e-05, 1e16, None, 0.1 + 0.2, 2.5e-7, -0.0, 3, float("nan"), 1e22],
    "boolean": [True, False, None, True, False, True, False, None, True, False, True],
}


def _edge_rows(table: str) -> list[dict]:
    return [{column: EDGE[column_dtype(column)][i] for column in TABLES[table]} for i in range(11)]


def _sample_rows() -> dict[str, list[dict]]:
    import imr_extract
    from imr_extract.batch import use_pipeline

    use_pipeline(imr_extract.load(), 5_000_000)
    rows = {t: [] for t in TABLES}
    for path in sorted(SAMPLES.iterdir()):
        for table, found in process_file(Path(path))[0].items():
            rows[table] += found
    return rows


@pytest.fixture(scope="module")
def sample_rows():
    return _sample_rows()


@pytest.mark.parametrize("table", list(TABLES))
def test_csv_lines_are_what_pandas_writes(table, sample_rows):
    for rows in (sample_rows[table], _edge_rows(table), []):
        assert csv_lines(table, rows) == frame(table, rows).to_csv(header=False, index=False)


@pytest.mark.parametrize("table", list(TABLES))
def test_json_lines_read_back_as_the_same_frame(table, sample_rows, tmp_path):
    for rows in (sample_rows[table], _edge_rows(table), []):
        path = tmp_path / f"{table}.jsonl"
        path.write_text(json_lines(rows), encoding="utf-8")
        back = frame(table, read_rows(path))
        assert back.equals(frame(table, rows))
        assert back.to_csv(index=False) == frame(table, rows).to_csv(index=False)


def test_a_fraction_in_a_whole_number_column_is_refused_as_pandas_refuses_it():
    table = next(t for t in TABLES if any(column_dtype(c) == "Int64" for c in TABLES[t]))
    column = next(c for c in TABLES[table] if column_dtype(c) == "Int64")
    with pytest.raises((TypeError, ValueError)):
        frame(table, [{column: 1.5}])
    with pytest.raises(ValueError):
        csv_lines(table, [{column: 1.5}])
