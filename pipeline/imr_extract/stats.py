"""Outcome rates with intervals that know decisions come in letters.

Decisions of one letter share a reviewer, a claimant and a case: their outcomes are correlated
(in the shared corpus, 29 of 135 letters hold all 42 overturns). A plain Wilson interval treats
every decision as independent and is too narrow. Here the interval is a Wilson score interval
on the *effective* sample size n / deff, with Kish's design effect for clustered samples,

    deff = 1 + (m - 1) * ICC,

where m is the size-weighted mean number of the group's decisions per letter (sum m_i^2 / sum
m_i) and ICC the intra-letter correlation of being overturned, estimated once over the whole
run (one-way ANOVA estimator, clipped at 0). It is deterministic, needs no resampling, and
stays wide for a group that is one letter (m = n) or that is all one outcome (where a cluster
bootstrap would collapse to a point). The report and the notebook use these functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported when a function runs: `import imr_extract` stays light
    import pandas as pd

#: Groups with fewer decisions than this are shown greyed, with no bar drawn.
MIN_DECISIONS = 10

METHOD = (
    "95% Wilson intervals on the effective sample size n / deff, with the design effect "
    "deff = 1 + (m - 1) &times; ICC for decisions clustered in letters (m: the group's "
    "decisions per letter, size-weighted; ICC: the intra-letter correlation of overturning, "
    "over the whole run)"
)


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (k and n may be effective, non-integer)."""
    if n <= 0:
        return 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def letter_icc(outcomes: pd.Series, letters: pd.Series) -> float:
    """Intra-letter correlation of a 0/1 outcome (ANOVA estimator), clipped to [0, 1].
    0 when it cannot be estimated (fewer than two letters, or no variation)."""
    import pandas as pd

    y = pd.Series(outcomes).astype(float).to_numpy()
    groups = pd.Series(y).groupby(pd.Series(letters).astype(str).to_numpy())
    sizes, sums = groups.size(), groups.sum()
    n, k = len(y), len(sizes)
    if k < 2 or n <= k:
        return 0.0
    mean = y.mean()
    ssb = float((sizes * (sums / sizes - mean) ** 2).sum())
    ssw = float(((sums / sizes) * (1 - sums / sizes) * sizes).sum())  # y is 0/1
    msb, msw = ssb / (k - 1), ssw / (n - k)
    m0 = (n - float((sizes**2).sum()) / n) / (k - 1)
    denominator = msb + (m0 - 1) * msw
    if denominator <= 0:
        return 0.0
    return min(1.0, max(0.0, (msb - msw) / denominator))


def design_effect(per_letter: Iterable[int], icc: float) -> float:
    """Kish's design effect 1 + (m - 1) ICC, m = sum m_i^2 / sum m_i over the letters' counts."""
    sizes = [int(m) for m in per_letter if m]
    if not sizes:
        return 1.0
    m = sum(s * s for s in sizes) / sum(sizes)
    return max(1.0, 1.0 + (m - 1.0) * icc)


def clustered_interval(
    overturned: pd.Series, letters: pd.Series, icc: float
) -> tuple[float, float, float]:
    """(low, high, deff): the clustered 95% interval of the share of `overturned` (booleans)."""
    import pandas as pd

    overturned = pd.Series(overturned).astype(bool)
    n, k = len(overturned), int(overturned.sum())
    deff = design_effect(pd.Series(letters).astype(str).value_counts().tolist(), icc)
    low, high = wilson(k / deff, n / deff)
    return low, high, deff


def _values(value) -> list[str]:
    """A cell as its list of values: a real list (Parquet list column), a `;`-joined string
    or a scalar; empty cells give []."""
    import pandas as pd

    if isinstance(value, str):
        return [v for v in value.split(";") if v]
    if value is None:
        return []
    if hasattr(value, "__iter__"):  # list, tuple, numpy array
        return [str(v) for v in value if v is not None and str(v) != ""]
    if pd.isna(value):
        return []
    return [str(value)]


def explode_values(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per value of a list column (real lists or `;`-joined strings); rows without a
    value are dropped."""

    out = frame.assign(**{column: [_values(v) for v in frame[column]]}).explode(column)
    return out[out[column].notna()]


def outcome_rates(
    frame: pd.DataFrame,
    by: str,
    *,
    cluster: str = "doc_id",
    icc: float | None = None,
    top: int | None = None,
    min_n: int = MIN_DECISIONS,
) -> pd.DataFrame:
    """Overturned rate per value of `by`, most frequent first: columns n (decisions), letters,
    overturned, rate, low, high (the clustered 95% interval), deff and small (n < min_n: to
    grey out, never to draw as a bar). `frame` has one row per decision (or per decision and
    value, after `explode_values`) with `outcome` and the `cluster` column; `icc` defaults to
    the one of `frame` itself (pass the run's when `frame` is a subset or exploded)."""
    import pandas as pd

    columns = ["n", "letters", "overturned", "rate", "low", "high", "deff", "small"]
    if frame.empty or by not in frame:
        return pd.DataFrame(columns=columns)
    overturned = frame["outcome"].astype(str) == "Overturned"
    if icc is None:
        icc = letter_icc(overturned, frame[cluster])
    work = pd.DataFrame(
        {"by": frame[by].astype(str), "o": overturned, "c": frame[cluster].astype(str)}
    )
    rows = {}
    for value, group in work.groupby("by", sort=False):
        n, k = len(group), int(group.o.sum())
        low, high, deff = clustered_interval(group.o, group.c, icc)
        rows[value] = {
            "n": n,
            "letters": group.c.nunique(),
            "overturned": k,
            "rate": k / n,
            "low": low,
            "high": high,
            "deff": deff,
            "small": n < min_n,
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table = table.sort_values(["n", "letters"], ascending=False, kind="stable")
    table.index.name = by
    return table.head(top) if top else table


def _code(value) -> str:
    """A code cell as text: 42 for 42, 42.0 or "42"; "" for an empty cell."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def body_part_groups(decisions: pd.DataFrame) -> pd.DataFrame | None:
    """Decisions labelled by their WCIO body part ("42 lower back area"), or None when the run
    has no body part columns (runs before 0.4.0). Decisions without one are "(not coded)"."""
    import pandas as pd

    if "body_part_code" not in decisions:
        return None
    codes = decisions["body_part_code"].map(_code)
    names = (
        decisions["body_part"].map(_code)
        if "body_part" in decisions
        else pd.Series("", codes.index)
    )
    labels = [
        f"{c} {n}".strip() if c or n else "(not coded)" for c, n in zip(codes, names, strict=True)
    ]
    return decisions.assign(body_part_group=labels)


def icd_category_title(category: str) -> str:
    """The ICD-10-CM title of a 3-character category when the code set package is installed."""
    try:
        import simple_icd_10_cm as icd
    except ImportError:
        return ""
    try:
        return icd.get_description(category) if icd.is_valid_item(category) else ""
    except Exception:  # noqa: BLE001  a title is a nicety, never a reason to fail the report
        return ""


def icd_category_groups(decisions: pd.DataFrame) -> pd.DataFrame | None:
    """Decisions labelled by the 3-character ICD-10-CM category of `primary_icd10cm` ("M54
    Dorsalgia"), or None when the run has no such column. Uncoded decisions: "(not coded)"."""
    if "primary_icd10cm" not in decisions:
        return None
    categories = decisions["primary_icd10cm"].map(_code).str.upper().str[:3]
    titles = {c: icd_category_title(c) for c in set(categories) if c}
    labels = [f"{c} {titles[c]}".strip() if c else "(not coded)" for c in categories]
    return decisions.assign(icd10cm_category_group=labels)
