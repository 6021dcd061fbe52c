"""The data dictionary of the output tables, and what is derived from it.

`resources/columns.csv` holds one row per output column (table, column, type, list,
description, values): its Frictionless type (string, integer, number, boolean), whether it is
a `;`-joined list, what it means, and the closed set of values where there is one. From it:

- how tables load (`loaded`): list columns as Arrow lists, closed sets as categories, header
  dates as datetimes; `load_run` and `to_frames` both use it, so they give the same dtypes;
- the Parquet tables a run publishes (`arrow_table`): list columns as Arrow `list<string>`;
- `datapackage.json` (`datapackage`), the Frictionless Data Package every run writes;
- the README's column tables (`readme_tables`; `make readme` rewrites them, a test fails when
  they differ).

Rows are taken in `export.TABLES` order, whatever their order in the file.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imr_extract.export import TABLES, column_dtype
from imr_extract.rules import packaged_rules

COLUMNS_FILE = "columns.csv"
LIST_SEPARATOR = ";"
MISSING_VALUES = [""]
FRICTIONLESS_TYPES = {"Int64": "integer", "Float64": "number", "boolean": "boolean"}
# header dates: ISO text in the CSV, datetimes once loaded
DATE_COLUMNS = {
    "documents": [
        "date_assigned",
        "decision_date",
        "date_of_injury",
        "ur_denial_date",
        "application_received",
    ],
}
DATA_PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str  # Frictionless type of the CSV cell: string, integer, number, boolean
    is_list: bool  # a `;`-joined list in the CSV, an Arrow list once loaded
    description: str
    values: tuple[str, ...]  # the closed set of values, or () when it is open


@functools.cache
def _rows() -> tuple[Column, ...]:
    return tuple(
        Column(
            table=r["table"],
            name=r["column"],
            type=r["type"],
            is_list=r["list"].strip().lower() == "true",
            description=r["description"],
            values=tuple(v for v in r["values"].split("|") if v) if r["values"] else (),
        )
        for r in packaged_rules(COLUMNS_FILE)
    )


def dictionary() -> dict[str, dict[str, Column]]:
    """{table: {column: Column}} for the columns of `export.TABLES`, in its order."""
    by_table: dict[str, dict[str, Column]] = {}
    for c in _rows():
        by_table.setdefault(c.table, {})[c.name] = c
    return {
        t: {n: by_table[t][n] for n in cols if n in by_table.get(t, {})}
        for t, cols in TABLES.items()
    }


def frictionless_type(column: str) -> str:
    """The Frictionless type `export.column_dtype` gives a column."""
    return FRICTIONLESS_TYPES.get(column_dtype(column), "string")


def problems() -> list[str]:
    """Where columns.csv and export.TABLES disagree: a missing or unknown column, a type."""
    found = []
    rows = _rows()
    seen = {(c.table, c.name) for c in rows}
    for table, cols in TABLES.items():
        for name in cols:
            if (table, name) not in seen:
                found.append(f"{table}.{name} is not in {COLUMNS_FILE}")
    for c in rows:
        if c.table not in TABLES or c.name not in TABLES[c.table]:
            found.append(f"{c.table}.{c.name} of {COLUMNS_FILE} is no output column")
        elif c.type != frictionless_type(c.name):
            found.append(
                f"{c.table}.{c.name}: {COLUMNS_FILE} says {c.type}, "
                f"export.column_dtype says {frictionless_type(c.name)}"
            )
        elif c.is_list and c.type != "string":
            found.append(f"{c.table}.{c.name}: a list column is a string in the CSV")
    pairs = [(c.table, c.name) for c in rows]
    found += [
        f"{t}.{n} is in {COLUMNS_FILE} twice"
        for t, n in sorted(set(pairs))
        if pairs.count((t, n)) > 1
    ]
    return found


def list_columns(table: str) -> list[str]:
    """The `;`-joined list columns of `table` (columns.csv `list` = true)."""
    return [name for name, c in dictionary()[table].items() if c.is_list]


def category_columns(table: str) -> list[str]:
    """The columns of `table` with a closed set of values (columns.csv `values`)."""
    return [name for name, c in dictionary()[table].items() if c.values and not c.is_list]


# ---------------------------------------------------------------- lists and loaded frames


def list_type():
    import pyarrow as pa

    return pa.list_(pa.string())


def split_lists(values):
    """A pyarrow list<string> array from `;`-joined strings: an empty or missing cell is an
    empty list (the CSV cannot tell the two apart, so neither does the loaded table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = (
        values
        if isinstance(values, (pa.Array, pa.ChunkedArray))
        else pa.array(values, type=pa.string(), from_pandas=True)
    )
    text = text.cast(pa.string())
    blank = pc.equal(pc.fill_null(text, ""), "")
    parts = pc.split_pattern(pc.if_else(blank, pa.scalar(None, pa.string()), text), LIST_SEPARATOR)
    return pc.fill_null(parts, pa.scalar([], type=list_type()))


def as_lists(series):
    """`series` as an Arrow list<string> column (from `;` strings, or lists of any kind)."""
    import pandas as pd
    import pyarrow as pa

    dtype = pd.ArrowDtype(list_type())
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_list(series.dtype.pyarrow_dtype):
        return series.astype(dtype)
    values = series.tolist()
    if any(not isinstance(v, str) and hasattr(v, "__iter__") for v in values):
        lists = [[] if _missing(v) else [str(x) for x in v] for v in values]
        return pd.Series(pa.array(lists, type=list_type()), index=series.index, dtype=dtype)
    text = pd.Series(values, index=series.index, dtype="string")
    return pd.Series(split_lists(text), index=series.index, dtype=dtype)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN / NA
    except (TypeError, ValueError):
        return False


def loaded(name: str, df):
    """Table `name` typed for analysis, the same from a CSV, a Parquet table or `to_frames`:
    whole numbers Int64, numbers Float64, booleans, header dates as datetimes, closed sets
    (columns.csv `values`) as categories, `;`-joined list columns as Arrow list<string>, and
    empty text missing (a CSV cannot tell the two apart)."""
    import pandas as pd

    from imr_extract.export import typed

    lists = list_columns(name)
    kept = {c: df[c].reset_index(drop=True) for c in lists if c in df.columns}
    out = typed(name, df.drop(columns=list(kept)))  # a column it lacks comes back missing
    for col in lists:
        out[col] = as_lists(kept[col].set_axis(out.index) if col in kept else out[col])
    for col in out.columns:  # empty text is missing, as a CSV reads it back
        if col not in lists and out[col].dtype == "string":
            out[col] = out[col].mask(out[col] == "")
    for col in DATE_COLUMNS.get(name, []):
        out[col] = pd.to_datetime(out[col], errors="coerce")
    for col in category_columns(name):
        closed = list(dictionary()[name][col].values)
        seen = sorted(set(out[col].dropna()) - set(closed))
        out[col] = out[col].astype(pd.CategoricalDtype(closed + seen))
    return out


def explode(df, column: str):
    """One row per element of list column `column` (an Arrow list, as `load_run` gives, or a
    `;`-joined string, as in the CSV); a row whose list is empty keeps one row with the
    element missing, as `DataFrame.explode` does. The element column is a string."""
    out = df.assign(**{column: as_lists(df[column])}).explode(column)
    return out.astype({column: "string"})


def arrow_schema(name: str):
    """The Arrow schema of the published Parquet table `name`."""
    from imr_extract.export import frame

    return arrow_table(name, frame(name, [])).schema


def arrow_table(name: str, df):
    """A typed frame of table `name` (`;` strings) as the Arrow table its Parquet file holds:
    list columns become list<string>. The pandas metadata says `object` for them, so a plain
    `pandas.read_parquet` gives lists (NumPy arrays) rather than failing on the dtype."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = json.loads(table.schema.metadata[b"pandas"])
    lists = set(list_columns(name))
    for col in meta["columns"]:
        if col["name"] in lists:
            col.update(pandas_type="list[unicode]", numpy_type="object", metadata=None)
    for col in lists:
        i = table.schema.get_field_index(col)
        table = table.set_column(i, pa.field(col, list_type()), split_lists(table[col]))
    return table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()})


def read_parquet(path):
    """A published Parquet table with its list columns as Arrow lists."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    def mapper(arrow_type):
        return pd.ArrowDtype(list_type()) if pa.types.is_list(arrow_type) else None

    return pq.read_table(path).to_pandas(types_mapper=mapper)


# ---------------------------------------------------------------- datapackage.json


def table_schema(name: str, parquet: bool = False) -> dict[str, Any]:
    """The Frictionless Table Schema of table `name`. A list column is the Table Schema v2
    `list` type (`;` delimiter, string items) in the CSV; in Parquet it is a native list."""
    fields = []
    for col, c in dictionary()[name].items():
        field: dict[str, Any] = {"name": col, "type": c.type, "description": c.description}
        if c.is_list:
            field["type"] = "list"
            field["itemType"] = "string"
            if not parquet:
                field["delimiter"] = LIST_SEPARATOR
        elif c.values:
            field["constraints"] = {"enum": list(c.values)}
        fields.append(field)
    return {"fields": fields, "missingValues": MISSING_VALUES}


def datapackage(files: list[str], version: str, created: str | None = None) -> dict[str, Any]:
    """The Data Package descriptor of a run's table files (`documents.csv`, …`.parquet`):
    one resource per file, each with its table's schema."""
    resources = []
    for file in files:
        table, _, suffix = file.rpartition(".")
        if table not in TABLES:
            continue
        resource: dict[str, Any] = {
            "name": table if suffix == "csv" else f"{table}-{suffix}",
            "path": file,
            "type": "table",
            "format": suffix,
            "mediatype": "text/csv" if suffix == "csv" else PARQUET_MEDIA_TYPE,
            "schema": table_schema(table, parquet=suffix == "parquet"),
        }
        if suffix == "csv":
            resource["encoding"] = "utf-8"
        resources.append(resource)
    package: dict[str, Any] = {
        "$schema": DATA_PACKAGE_PROFILE,
        "name": "imr-extract-run",
        "title": "Tables of an imr-extract run over California IMR determination letters",
        "version": version,
        "resources": resources,
    }
    if created:
        package["created"] = created
    return package


def datapackage_json(files: list[str], version: str, created: str | None = None) -> str:
    return json.dumps(datapackage(files, version, created), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- README tables

README_MARK = "<!-- columns:{table} {edge} (generated from resources/columns.csv: make readme) -->"


def readme_table(name: str) -> str:
    """The README's column table of `name`: one row per column, consecutive columns with the
    same description in one row (`start_char, end_char`)."""
    rows: list[tuple[list[str], str]] = []
    for col, c in dictionary()[name].items():
        if rows and rows[-1][1] == c.description:
            rows[-1][0].append(col)
        else:
            rows.append(([col], c.description))
    lines = ["| column | meaning |", "|---|---|"]
    lines += [
        "| " + ", ".join(cols) + " | " + text.replace("|", "\\|") + " |" for cols, text in rows
    ]
    return "\n".join(lines)


def readme_tables() -> dict[str, str]:
    return {name: readme_table(name) for name in TABLES}


def _block(name: str) -> re.Pattern:
    start = re.escape(README_MARK.format(table=name, edge="start"))
    end = re.escape(README_MARK.format(table=name, edge="end"))
    return re.compile(f"({start}\n)(.*?)(\n{end})", re.S)


def sync_readme(text: str) -> str:
    """`text` (the README) with every generated column table replaced by the current one."""
    for name, table in readme_tables().items():
        pattern = _block(name)
        if not pattern.search(text):
            raise ValueError(f"the README has no generated block for {name}")
        text = pattern.sub(lambda m, t=table: m.group(1) + t + m.group(3), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """`python -m imr_extract.columns README.md [--check]`: rewrite (or check) its tables."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("readme", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    new = sync_readme(text)
    if args.check:
        if new != text:
            print(f"{args.readme}: column tables differ from {COLUMNS_FILE} (run make readme)")
            return 1
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
