"""Reading and writing rule files (JSONL with a header line naming source and date)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Rules of a JSONL file; header lines (keys starting with '_') are skipped."""
    rules = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if all(key.startswith("_") for key in row):
            continue
        rules.append(row)
    return rules


def read_csv_rules(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV rule file; lines starting with '#' (the source/date header) are skipped."""
    import csv

    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


def read_rules(path: str | Path) -> list[dict[str, Any]]:
    return read_csv_rules(path) if str(path).endswith(".csv") else read_jsonl(path)


def write_jsonl(path: str | Path, rules: list[dict[str, Any]], header: dict[str, Any]) -> None:
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [json.dumps(rule, ensure_ascii=False) for rule in rules]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def packaged_rules(name: str) -> list[dict[str, Any]]:
    """Rules shipped with the package (used when building a pipeline, never at call time)."""
    with resources.as_file(resources.files("imr_extract.resources") / name) as path:
        return read_rules(path)
