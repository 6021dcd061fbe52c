"""A part's files, written without pandas or pyarrow: its rows as JSON lines, and as CSV lines.

Importing pandas and pyarrow is a third of the start-up of a run on one letter, and every table
row of a run passed through a DataFrame and a Parquet file only to be written as CSV. Here rows
become cells by the table's declared types (`export.column_dtype`) exactly as
`export.frame(table, rows)` and `DataFrame.to_csv` would write them: the same csv module
settings, `repr` of floats, `True` and `False`, empty cells for missing values. The JSON lines
keep the values themselves (the durable copy, that the merge reads into frames when it needs
them). `tests/test_part_files.py` compares both with the DataFrame path.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imr_extract.export import TABLES, column_dtype


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _integer(value: Any) -> int:
    number = int(value)
    if number != value:
        raise ValueError(f"not a whole number: {value!r}")  # as pandas' Int64 refuses it
    return number


# declared type -> the CSV cell of a value that is not missing
CELLS: dict[str, Callable[[Any], str]] = {
    "string": _text,
    "Int64": lambda v: str(_integer(v)),
    "Float64": lambda v: repr(float(v)),
    "boolean": lambda v: "True" if v else "False",
}


def csv_lines(table: str, rows: list[dict[str, Any]]) -> str:
    """The rows of `table` as `frame(table, rows).to_csv(header=False, index=False)` writes
    them."""
    cells = [CELLS[column_dtype(c)] for c in TABLES[table]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # pandas' settings: QUOTE_MINIMAL, '"'
    for row in rows:
        writer.writerow(
            [
                "" if _missing(v := row.get(column)) else cell(v)
                for column, cell in zip(TABLES[table], cells, strict=True)
            ]
        )
    return out.getvalue()


def json_lines(rows: list[dict[str, Any]]) -> str:
    """The rows as JSON lines: their values exactly (str, int, float, bool, None), so that
    `frame(table, read_rows(...))` is `frame(table, rows)`."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def read_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
