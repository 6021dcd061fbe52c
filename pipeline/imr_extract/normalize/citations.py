"""Guideline texts ("Decision based on MTUS ..., Section(s): ...") cut into structured citations.

Pure functions over one squashed string; offsets returned are into that string. The catalog of
titles and ODG chapters is data (resources/guidelines.csv); the cutting rules are
resources/citations.jsonl.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imr_extract.normalize.pages import parse_pages
from imr_extract.pattern_set import PatternSet

NO_CITATION = "No citation"
UNKNOWN_TITLE = "Unknown title"


@dataclass
class Citation:
    family: str
    guideline: str
    start: int
    end: int
    raw: str
    edition: str | None = None
    chapter: str | None = None
    section: str | None = None
    pages: list[int] = field(default_factory=list)
    page_text: str | None = None
    known_title: bool = True


@dataclass
class CitationRules:
    no_citation: re.Pattern
    statement: re.Pattern
    mtus_prefix: re.Pattern
    non_mtus_prefix: re.Pattern
    title_boundary: re.Pattern
    pages: re.Pattern
    sections: re.Pattern
    separator: re.Pattern
    drop: re.Pattern
    titles: list[tuple[re.Pattern, dict]]
    chapters: dict[str, list[tuple[re.Pattern, str]]]  # by guideline family
    # the titles' `finditer` in one scan, tried where their literal prefixes start (most start
    # with an optional group, which makes the regex engine try them at every position)
    title_scan: PatternSet

    @classmethod
    def from_rules(cls, cutting: list[dict], catalog: list[dict], fast: bool = True):
        """`fast=False`: each title scanned on its own (the plain path, for comparisons)."""
        by_kind = {r["kind"]: re.compile(r["pattern"]) for r in cutting}
        titles = [(re.compile(r["pattern"]), r) for r in catalog if r["kind"] == "title"]
        chapters: dict[str, list[tuple[re.Pattern, str]]] = {}
        for r in catalog:
            if r["kind"] == "chapter":
                chapters.setdefault(r["family"], []).append(
                    (re.compile(r["pattern"]), r["chapter"])
                )
        title_scan = PatternSet([p for p, _ in titles], joint=fast, word_starts=False)
        return cls(titles=titles, chapters=chapters, title_scan=title_scan, **by_kind)


def _strip(text: str) -> str:
    return text.strip(" ,.;:-\u2013/")


def _edition(text: str) -> str | None:
    m = re.search(r"\b(19[89]\d|20[0-4]\d)\b", re.sub(r"\([^)]*\)", "", text))
    return m.group(1) if m else None


def _titles_in(text: str, lo: int, hi: int, rules: CitationRules, family: str | None):
    """Title matches in text[lo:hi] that start a citation (at its start or after a separator)."""
    hits = []
    found = rules.title_scan.finditer(text, lo, hi)
    for (_, row), matches in zip(rules.titles, found, strict=True):
        if family and row["family"] != family:
            continue
        for m in matches:
            if rules.title_boundary.search(text[lo : m.start()]):
                hits.append((m.start(), m.end(), row))
    hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
    kept, last_end = [], -1
    for start, end, row in hits:
        if start >= last_end:
            kept.append((start, end, row))
            last_end = end
    return kept


def _mtus_citation(text: str, start: int, title_end: int, end: int, row: dict, rules) -> Citation:
    rest = text[title_end:end]
    citation = Citation(
        family=row["family"],
        guideline=row["guideline"],
        chapter=row["chapter"] or None,
        start=start,
        end=end,
        raw=text[start:end],
        edition=_edition(rest[:8]),
    )
    m = rules.pages.search(rest)
    if m:
        citation.page_text = _strip(m.group("pages"))
        citation.pages = parse_pages(citation.page_text)
        rest = rest[: m.start()] + " " + rest[m.end() :]
    m = rules.sections.search(rest)
    topic = rest[m.end() :] if m else re.sub(r"^\s*\d{4}\b", "", rest)
    topic = re.sub(r",?\s*(?:and)?\s*$", "", topic.strip())
    citation.section = _strip(topic) or None
    return citation


def _chapter_at(text: str, rules: CitationRules, family: str, anchored: bool):
    """(start, end, chapter) of the first chapter name of `family` in text (or at its start)."""
    hits = []
    for pattern, chapter in rules.chapters.get(family, []):
        m = pattern.match(text) if anchored else pattern.search(text)
        if m:
            hits.append((m.start(), -len(m.group()), m.end(), chapter))
    if not hits:
        return None
    start, _, end, chapter = min(hits)
    return start, end, chapter


def _chaptered_citation(text: str, start: int, title_end: int, end: int, row: dict, rules):
    """ODG, ACOEM and other non-MTUS sources: chapter from the catalog, then the topic."""
    rest = text[title_end:end]
    citation = Citation(
        family=row["family"],
        guideline=row["guideline"],
        start=start,
        end=end,
        raw=text[start:end],
        edition=_edition(rest),
    )
    m = rules.pages.search(rest)
    if m:
        citation.page_text = _strip(m.group("pages"))
        citation.pages = parse_pages(citation.page_text)
        rest = rest[: m.start()] + " " + rest[m.end() :]
    topic = rules.drop.sub(" ", rest)
    found = _chapter_at(topic, rules, row["family"], anchored=False)
    if found:
        citation.chapter = found[2]
        topic = topic[found[1] :]
        while True:  # "Neck & Upper Back, Low Back and Hand chapters: X" -> the first chapter only
            lead = rules.separator.match(topic).end()
            more = _chapter_at(topic[lead:], rules, row["family"], anchored=True)
            if not more:
                break
            topic = topic[lead + more[1] :]
    topic = re.sub(r"^[\s,.;:/\-\u2013]*(?:\d{4}\b)?", "", topic)
    citation.section = _strip(" ".join(topic.split())) or None
    return citation


def _statement_citations(text: str, lo: int, hi: int, rules: CitationRules) -> list[Citation]:
    statement = text[lo:hi]
    m = rules.mtus_prefix.match(statement)
    if m:
        family, body = "MTUS", lo + m.end()
    else:
        m = rules.non_mtus_prefix.match(statement)
        family, body = None, lo + (m.end() if m else 0)
    titles = _titles_in(text, body, hi, rules, family)
    if family == "MTUS":
        titles = [t for t in titles if t[2]["family"] == "MTUS"]
    if not titles or titles[0][0] != body:
        unknown_end = titles[0][0] if titles else hi
        raw = _strip(text[body:unknown_end])
        out = []
        if raw:
            out.append(
                Citation(
                    family=family or "Non-MTUS other",
                    guideline=UNKNOWN_TITLE,
                    start=body,
                    end=unknown_end,
                    raw=text[body:unknown_end],
                    section=raw,
                    known_title=False,
                )
            )
        if not titles:
            return out
    else:
        out = []
    ends = [t[0] for t in titles[1:]] + [hi]
    for (start, title_end, row), end in zip(titles, ends, strict=True):
        make = _mtus_citation if row["family"] == "MTUS" else _chaptered_citation
        out.append(make(text, start, title_end, end, row, rules))
    return out


def parse_citations(text: str, rules: CitationRules) -> list[Citation]:
    """Citations of one guideline text (a Claims Administrator or MAXIMUS guideline)."""
    m = rules.no_citation.search(text)
    if m:
        return [Citation(family="none", guideline=NO_CITATION, start=0, end=len(text), raw=text)]
    starts = [m.end() for m in rules.statement.finditer(text)]
    bounds = [m.start() for m in rules.statement.finditer(text)][1:] + [len(text)]
    if not starts:
        starts, bounds = [0], [len(text)]
    citations = []
    for lo, hi in zip(starts, bounds, strict=True):
        hi = lo + len(text[lo:hi].rstrip(" ."))
        for citation in _statement_citations(text, lo, hi, rules):
            citation.end = citation.start + len(text[citation.start : citation.end].rstrip(" ,.;"))
            citation.raw = text[citation.start : citation.end]
            citations.append(citation)
    return citations
